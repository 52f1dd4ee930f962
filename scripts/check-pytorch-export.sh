#!/usr/bin/env bash
# CI's check of `export pytorch`: exported model.py files load graft's weights strictly and give
# graft's outputs; exported train.py reproduces graft's training step by step, runs under torchrun
# with two processes, and writes weights graft reads back (Tests/Fixtures/pytorch/check_pytorch_export.py).
#
#   scripts/check-pytorch-export.sh [path/to/graft] [--all]
#
# PyTorch goes into the virtual environment the zoo check uses ($GRAFT_ZOO_VENV, default
# ~/.cache/graft/zoo-venv), installed on first use. When a zoo has been built (.build/zoo, by
# scripts/check-zoo.sh), its files are exported and checked too.
set -euo pipefail
cd "$(dirname "$0")/.."
graft="${1:-.build/debug/graft}"
shift || true
venv="${GRAFT_ZOO_VENV:-$HOME/.cache/graft/zoo-venv}"
if ! "$venv/bin/python" -c "import torch, torchvision, numpy, safetensors" 2>/dev/null; then
    echo "== installing PyTorch into $venv (first run only)"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet torch torchvision numpy safetensors
fi
exec "$venv/bin/python" Tests/Fixtures/pytorch/check_pytorch_export.py "$graft" "$@"
