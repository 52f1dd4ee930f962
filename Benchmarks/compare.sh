#!/usr/bin/env bash
# Runs graft's benchmark workloads and the same workloads in the peers (a C program calling
# cblas_sgemm directly; PyTorch, onnxruntime and Keras 3 on TensorFlow, 2 threads each) in one
# invocation, and prints the graft/peer ratios.
#
#   Benchmarks/compare.sh [repeats] [W1 W2 W3 W4 W5 W7 W8 W9 W10]    (default: every workload)
#
# The peers go into a virtual environment ($GRAFT_BENCH_VENV, default Benchmarks/.venv), created and
# pip-installed on first use; not part of CI. W9 and W10's models (torchvision and Keras, random
# weights) are made once into Benchmarks/out/models by Benchmarks/peers/models.py.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-10}"
shift || true
selected="${*:-W1 W2 W3 W4 W5 W7 W8 W9 W10}"
selected="${selected^^}"
wants() { for w in "$@"; do [[ " $selected " == *" $w "* ]] && return 0; done; return 1; }
out=Benchmarks/out
venv="${GRAFT_BENCH_VENV:-Benchmarks/.venv}"
python="$venv/bin/python"
mkdir -p "$out"

echo "== building graft-bench (release) and the C peer"
swift build -c release --product graft-bench 2>&1 | tail -1
swift build -c release --product graft 2>&1 | tail -1
cc -O2 Benchmarks/peers/gemm.c $(pkg-config --cflags --libs openblas) -o "$out/gemm-peer"

if ! "$python" -c "import torch, torchvision, efficientnet_lite_pytorch, onnx, onnxruntime, onnxscript, keras, tensorflow, safetensors" 2>/dev/null; then
    echo "== installing the peers into $venv (first run only)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch torchvision numpy efficientnet-lite-pytorch onnx onnxruntime onnxscript \
        keras tensorflow-cpu h5py safetensors
fi
models="$out/models"
if wants W9 W10 && [[ ! -f "$models/resnet50.keras" ]]; then
    echo "== making W9 and W10's models in $models (first run only)"
    "$python" Benchmarks/peers/models.py make-torch "$models"
    "$python" Benchmarks/peers/models.py make-keras "$models"
fi

# The C peer calls the same OpenBLAS, with the kernels graft chose (see BLASCore.swift).
OPENBLAS_CORETYPE="$(.build/release/graft-bench --blas-core)"
export OPENBLAS_CORETYPE
echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, OpenBLAS kernels $OPENBLAS_CORETYPE"
# OpenBLAS's small-GEMM speed differs from one process to the next (seen at n = 512: 1.3 or 2.5 ms,
# for graft and the C peer alike), so W1 runs in three alternating rounds and the report takes the
# median of the three medians.
: > "$out/graft.txt"; : > "$out/c.txt"; : > "$out/torch.txt"; : > "$out/onnxruntime.txt"; : > "$out/keras.txt"
bench() { .build/release/graft-bench "$@" --repeats "$repeats" --threads 2 --models "$models" | tee -a "$out/graft.txt" | grep -v '^RESULT'; }
if wants W1; then
    for round in 1 2 3; do
        echo "== round $round: graft W1, C cblas_sgemm"
        bench W1
        "$out/gemm-peer" "$repeats" 2 >> "$out/c.txt"
    done
fi
others=""
for w in W2 W3 W8 W7 W4 W5 W9 W10; do wants "$w" && others="$others $w"; done
if [[ -n "$others" ]]; then
    echo "== graft$others (W8 writes its exact data splits to $out/mnist-splits for the peer)"
    bench $others
fi
echo "== peers"
if wants W1 W2; then "$python" Benchmarks/peers/torch_bench.py "$repeats" >> "$out/torch.txt"; fi
if wants W3 W8; then "$python" Benchmarks/peers/torch_mnist.py 3 >> "$out/torch.txt"; fi
if wants W4 W5; then "$python" Benchmarks/peers/torch_pretrained.py 5 >> "$out/torch.txt"; fi
if wants W9 W10; then
    "$python" Benchmarks/peers/models.py torch "$models" "$repeats" >> "$out/torch.txt"
    "$python" Benchmarks/peers/models.py ort "$models" "$repeats" >> "$out/onnxruntime.txt"
    "$python" Benchmarks/peers/models.py keras "$models" "$repeats" >> "$out/keras.txt"
fi

python3 - "$out" <<'PY'
import statistics
import sys
out = sys.argv[1]

def load(name):
    """Median of the per-run medians, for each (workload, case, unit)."""
    runs = {}
    for line in open(f"{out}/{name}.txt"):
        if line.startswith("RESULT "):
            _, workload, case, unit, median, low, high = line.split()
            runs.setdefault((workload, case, unit), []).append(float(median))
    return {key: statistics.median(values) for key, values in runs.items()}

graft = load("graft")
peers = {"C cblas": load("c"), "PyTorch": load("torch"), "onnxrt": load("onnxruntime"), "Keras": load("keras")}
# W9's PyTorch row builds the model and loads the state dict; "-prebuilt" loads into a model built beforehand.
if ("W9", "resnet50-load-pth", "ms") in graft and ("W9", "resnet50-load-pth-prebuilt", "ms") in peers["PyTorch"]:
    graft[("W9", "resnet50-load-pth-prebuilt", "ms")] = graft[("W9", "resnet50-load-pth", "ms")]
print()
print(f"{'workload':<28}{'peer':<10}{'graft':>12}{'peer':>12}{'ratio':>9}   (median of the repeats)")
for (workload, case, unit), value in graft.items():
    for peer, results in peers.items():
        other = results.get((workload, case, unit))
        if workload == "W5" and unit == "s" and results.get(("W5", "frozen-backbone-naive", "s")):
            naive = results[("W5", "frozen-backbone-naive", "s")]
            print(f"{workload + ' ' + case:<28}{'PyTorch naive':<14}{value:>7.2f} s {naive:>7.2f} s {value / naive:>8.2f}   graft time / peer time (≤ 1 is faster)")
        if other is None:
            continue
        if unit in ("ms", "s"):
            print(f"{workload + ' ' + case:<28}{peer:<10}{value:>9.2f} {unit:<2}{other:>9.2f} {unit:<2}{value / other:>9.2f}   graft time / peer time (≤ 1 is faster)")
        elif unit == "accuracy":
            print(f"{workload + ' ' + case:<28}{peer:<10}{value:>12.4f}{other:>12.4f}{100 * (value - other):>+8.1f}   graft − peer, points of test accuracy")
        elif unit == "MB":
            print(f"{workload + ' ' + case:<28}{peer:<10}{value:>9.1f} MB{other:>9.1f} MB{value / other:>9.2f}   graft memory / peer memory (≤ 1 is leaner)")
        elif unit == "images/s":
            print(f"{workload + ' ' + case:<28}{peer:<10}{value:>7.0f} im/s{other:>7.0f} im/s{value / other:>9.2f}   graft rate / peer rate (≥ 1 is faster)")
        else:
            print(f"{workload + ' ' + case:<28}{peer:<10}{value:>7.1f} GF/s{other:>7.1f} GF/s{value / other:>9.2f}   graft rate / peer rate (≥ 1 is faster)")
PY
