#!/usr/bin/env bash
# Runs graft's engine workloads (W1 GEMM, W2 convolution) and the same workloads in the peers
# (a C program calling cblas_sgemm directly; PyTorch with 2 threads) in one invocation, and
# prints the graft/peer ratios. Usage: Benchmarks/compare.sh [repeats]
# PyTorch goes into Benchmarks/.venv (created and pip-installed on first use; not part of CI).
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-10}"
out=Benchmarks/out
mkdir -p "$out"

echo "== building graft-bench (release) and the C peer"
swift build -c release --product graft-bench 2>&1 | tail -1
swift build -c release --product graft 2>&1 | tail -1
cc -O2 Benchmarks/peers/gemm.c $(pkg-config --cflags --libs openblas) -o "$out/gemm-peer"

if ! Benchmarks/.venv/bin/python -c "import torch, efficientnet_lite_pytorch" 2>/dev/null; then
    echo "== installing PyTorch into Benchmarks/.venv (first run only)"
    python3 -m venv Benchmarks/.venv
    Benchmarks/.venv/bin/pip install --quiet torch numpy efficientnet-lite-pytorch
fi

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
# OpenBLAS's small-GEMM speed differs from one process to the next (seen at n = 512: 1.3 or 2.5 ms,
# for graft and the C peer alike), so W1 runs in three alternating rounds and the report takes the
# median of the three medians.
: > "$out/graft.txt"; : > "$out/c.txt"
for round in 1 2 3; do
    echo "== round $round: graft W1, C cblas_sgemm"
    .build/release/graft-bench W1 --repeats "$repeats" --threads 2 | tee -a "$out/graft.txt" | grep -v '^RESULT'
    "$out/gemm-peer" "$repeats" 2 >> "$out/c.txt"
done
echo "== graft W2"
.build/release/graft-bench W2 --repeats "$repeats" --threads 2 | tee -a "$out/graft.txt" | grep -v '^RESULT'
echo "== graft W3, W8 (W8 writes its exact data splits to $out/mnist-splits for the peer)"
.build/release/graft-bench W3 W8 W7 W4 W5 --repeats "$repeats" --threads 2 | tee -a "$out/graft.txt" | grep -v '^RESULT'
echo "== PyTorch W1, W2, W3, W8"
Benchmarks/.venv/bin/python Benchmarks/peers/torch_bench.py "$repeats" > "$out/torch.txt"
Benchmarks/.venv/bin/python Benchmarks/peers/torch_mnist.py 3 >> "$out/torch.txt"
Benchmarks/.venv/bin/python Benchmarks/peers/torch_pretrained.py 5 >> "$out/torch.txt"

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

graft, peers = load("graft"), {"C cblas": load("c"), "PyTorch": load("torch")}
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
        elif unit == "images/s":
            print(f"{workload + ' ' + case:<28}{peer:<10}{value:>7.0f} im/s{other:>7.0f} im/s{value / other:>9.2f}   graft rate / peer rate (≥ 1 is faster)")
        else:
            print(f"{workload + ' ' + case:<28}{peer:<10}{value:>7.1f} GF/s{other:>7.1f} GF/s{value / other:>9.2f}   graft rate / peer rate (≥ 1 is faster)")
PY
