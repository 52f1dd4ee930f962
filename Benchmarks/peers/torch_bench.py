"""W1, W2 and W7 in PyTorch, 2 threads, timed like graft-bench: one warm-up, then median (min, max).

Usage: python torch_bench.py [repeats]
With GRAFT_PEER_CHANNELS_LAST=1, W2's tensors are channels-last (oneDNN's preferred layout) and W1
and W7 are skipped (they do not change with the layout). Compare.sh runs it stock and with tcmalloc.
Prints RESULT lines in graft-bench's format for Benchmarks/compare.sh.
"""
import os
import statistics
import sys
import time

import timing

import torch
import torch.nn.functional as F

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 10
torch.set_num_threads(2)
torch.manual_seed(0)


def measure(body):
    return timing.measure(body, repeats)


def report(workload, name, times, flops):
    ms = [t * 1e3 for t in times]
    rates = [flops / t / 1e9 for t in times]
    print(f"RESULT {workload} {name} ms {statistics.median(ms)} {min(ms)} {max(ms)}")
    print(f"RESULT {workload} {name} GFLOP/s {statistics.median(rates)} {min(rates)} {max(rates)}")


channels_last = os.environ.get("GRAFT_PEER_CHANNELS_LAST") == "1"
layout = torch.channels_last if channels_last else torch.contiguous_format
with torch.no_grad():
    for n in ((512, 1024, 2048) if not channels_last else ()):
        a, b = torch.rand(n, n), torch.rand(n, n)
        report("W1", f"gemm-n{n}", measure(lambda: torch.mm(a, b)), 2.0 * n ** 3)

x = (torch.rand(32, 64, 56, 56) * 2 - 1).to(memory_format=layout)
w = (torch.randn(64, 64, 3, 3) * 0.05).to(memory_format=layout)
upstream = (torch.rand(32, 64, 56, 56) * 2 - 1).to(memory_format=layout)
flops = 2.0 * 32 * 64 * 64 * 9 * 56 * 56
with torch.no_grad():
    report("W2", "conv-forward", measure(lambda: F.conv2d(x, w, padding=1)), flops)

xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()  # clone keeps the memory format


def step():
    y = F.conv2d(xg, wg, padding=1)
    y.backward(upstream)
    xg.grad = None
    wg.grad = None


report("W2", "conv-forward-backward", measure(step), 3 * flops)
print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, backend: {torch.backends.cpu.get_cpu_capability()}",
      file=sys.stderr)

if channels_last or os.environ.get("GRAFT_PEER_VARIANT"):
    sys.exit(0)  # W7 (the import's start-up) is timed once, in the stock run

# W7 peer: start-up of `python -c "import torch"` (what a Python tool pays before any work), median of 5.
import subprocess
starts = []
for _ in range(5):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    starts.append(time.perf_counter() - start)
print(f"RESULT W7 startup-summary ms {statistics.median(starts) * 1e3} {min(starts) * 1e3} {max(starts) * 1e3}")
