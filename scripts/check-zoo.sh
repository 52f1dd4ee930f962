#!/usr/bin/env bash
# The generality check: every Keras application and torchvision CNN, built with random weights by
# the reference frameworks (never a download), saved in each format graft reads, loaded by graft and
# compared with the framework's outputs and parameter totals (Tests/Fixtures/zoo).
#
#   scripts/check-zoo.sh [path/to/graft] [--all] [make_zoo.py options]
#
# Without --all, one model per family at its smallest variant and a 64×64 input (what CI runs).
# The frameworks go into a virtual environment of their own, kept between runs
# ($GRAFT_ZOO_VENV, default ~/.cache/graft/zoo-venv). Fails on any file that does not load and
# match, except the known misses listed (with reasons) in Tests/Fixtures/zoo/known_misses.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
graft="${1:-.build/debug/graft}"
shift || true
venv="${GRAFT_ZOO_VENV:-$HOME/.cache/graft/zoo-venv}"
work="${GRAFT_ZOO_DIR:-.build/zoo}"
if ! "$venv/bin/python" -c "import torch, torchvision, onnx, onnxruntime, onnxscript, tensorflow, tf_keras, keras, h5py, safetensors" 2>/dev/null; then
    echo "== installing the reference frameworks into $venv (first run only)"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet torch torchvision onnx onnxruntime onnxscript tensorflow-cpu tf-keras h5py numpy safetensors
fi
rm -rf "$work" && mkdir -p "$work"
start=$(date +%s)
echo "== building the zoo in $work"
# One process per framework: TensorFlow and PyTorch cannot share one.
for framework in keras torch; do
    "$venv/bin/python" Tests/Fixtures/zoo/make_zoo.py "$work" --frameworks "$framework" "$@" 2>> "$work/make.log" || { tail -30 "$work/make.log"; exit 1; }
done
echo "== built in $(( $(date +%s) - start )) s; checking graft ($graft)"
"$venv/bin/python" Tests/Fixtures/zoo/check_zoo.py "$graft" "$work" --known Tests/Fixtures/zoo/known_misses.txt
echo "== zoo check took $(( $(date +%s) - start )) s"
