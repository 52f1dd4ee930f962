#!/usr/bin/env bash
# The generality check: every Keras application, torchvision model, timm model and Hugging Face
# vision model graft reads (Tests/Fixtures/zoo/make_zoo.py's lists), built with random weights by
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
if ! "$venv/bin/python" -c "import torch, torchvision, onnx, onnxruntime, onnxscript, tensorflow, tf_keras, keras, h5py, safetensors, timm, transformers" 2>/dev/null; then
    echo "== installing the reference frameworks into $venv (first run only)"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet torch torchvision onnx onnxruntime onnxscript tensorflow-cpu tf-keras h5py numpy safetensors timm transformers
fi
start=$(date +%s)
known=Tests/Fixtures/zoo/known_misses.txt
all=0
for argument in "$@"; do [[ "$argument" == --all ]] && all=1; done

# What the frameworks make depends only on make_zoo.py, their versions and the options: CI's
# selection is kept in $GRAFT_ZOO_CACHE (default ~/.cache/graft/zoo), one folder per framework under
# a hash of those, and made again when any of them changes (--all never uses it).
cache="${GRAFT_ZOO_CACHE:-$HOME/.cache/graft/zoo}"
versions=$("$venv/bin/python" -m pip freeze 2>/dev/null | sort | sha256sum | cut -c1-16)

# Builds the zoo of one framework's selection in $1 (or takes it from the cache), then checks graft on it.
build_and_check() {
    local dir="$1"; shift
    rm -rf "$dir" && mkdir -p "$dir"
    for framework in keras torch timm hf; do
        [[ "$*" == *"--frameworks"* && "$*" != *"--frameworks $framework"* ]] && continue
        local key kept made="$dir/.$framework"
        key=$( { cat Tests/Fixtures/zoo/make_zoo.py; echo "$versions $framework $*"; } | sha256sum | cut -c1-16)
        kept="$cache/$framework-$key"
        if (( all == 0 )) && [[ -f "$kept/manifest-$framework.json" ]]; then
            echo "== $framework: the files this make_zoo.py and these framework versions made, kept in $kept"
        else
            mkdir -p "$made"
            "$venv/bin/python" Tests/Fixtures/zoo/make_zoo.py "$made" --frameworks "$framework" "$@" 2>> "$dir/make.log" \
                || { tail -30 "$dir/make.log"; return 100; }
            if (( all == 1 )); then
                mv "$made"/* "$dir/" && rmdir "$made"
                continue
            fi
            rm -rf "$cache/$framework-"* && mkdir -p "$cache" && mv "$made" "$kept" 2>/dev/null || { cp -a "$made" "$kept" && rm -rf "$made"; }
        fi
        cp -al "$kept/." "$dir/" 2>/dev/null || cp -a "$kept/." "$dir/"
    done
    "$venv/bin/python" Tests/Fixtures/zoo/check_zoo.py "$graft" "$dir" --known "$known"
}

if (( all == 0 )); then
    echo "== building the zoo in $work, then checking graft ($graft)"
    build_and_check "$work" "$@"
    echo "== zoo check took $(( $(date +%s) - start )) s"
    exit 0
fi

# --all: every model would take tens of gigabytes at once, so one family at a time, each deleted
# once checked. One process per framework: TensorFlow and PyTorch cannot share one.
unexpected=0
: > "$work.table"
frameworks="keras torch timm hf"
for one in keras torch timm hf; do [[ "$*" == *"--frameworks $one"* ]] && frameworks=$one; done
for framework in $frameworks; do
    for family in $("$venv/bin/python" Tests/Fixtures/zoo/make_zoo.py - --families --frameworks "$framework"); do
        echo "== $framework $family ($(( $(date +%s) - start )) s so far)"
        status=0
        build_and_check "$work/$framework-$family" "$@" --only "$family" --frameworks "$framework" | tee -a "$work.table" || status=$?
        rm -rf "$work/$framework-$family"
        unexpected=$(( unexpected + status ))
    done
done
passed=$(grep -c ' pass$\| pass  ' "$work.table" || true)
total=$(grep -c ' s  noise ' "$work.table" || true)
echo "== every model: $passed of $total files load and match, $unexpected unexpected; table in $work.table; $(( $(date +%s) - start )) s"
(( unexpected == 0 ))
