"""The report of Benchmarks/compare.sh: graft against every peer and against the best of them, as
ratios from one run; the issues' targets met or missed; and, when both a quiet and a contended run
exist, how far each ratio moved under contention (the target: within 15 %).

Usage: python3 Benchmarks/report.py OUT MODE    (reads OUT/MODE/*.txt, RESULT lines)
"""
import os
import statistics
import sys

PEERS = [("c", "C cblas"), ("torch", "PyTorch"), ("torch-tcmalloc", "PyTorch+tcmalloc"),
         ("torch-tcmalloc-cl", "PyTorch+tc+CL"), ("onnxruntime", "onnxruntime"), ("keras", "Keras+oneDNN"),
         ("onednn", "oneDNN 2.6 (AVX2)"), ("xnnpack", "XNNPACK")]
TORCH = ("torch", "torch-tcmalloc", "torch-tcmalloc-cl")
LOWER_IS_BETTER = {"ms", "s", "MB"}
# (workload, case prefix, unit, peer: "best", "best-torch" or a peer file, bound, "max" (ratio ≤ bound) or "min" (≥ bound))
TARGETS = [
    # Issue 28: GEMM at OpenBLAS's own speed, the convolution and the ResNet-18 step ahead of PyTorch.
    ("W1", "gemm-n512", "GFLOP/s", "c", 0.95, "min"),
    ("W1", "gemm-n1024", "GFLOP/s", "c", 0.95, "min"),
    ("W1", "gemm-n2048", "GFLOP/s", "c", 0.95, "min"),
    ("W2", "conv-forward", "ms", "best-torch", 1.0, "max"),
    ("W2", "conv-forward-backward", "ms", "best-torch", 1.0, "max"),
    ("W3", "mnist-cnn-train", "images/s", "best", 1.0, "min"),
    ("W4", "efficientnet-lite0-b8", "images/s", "onnxruntime", 1.0, "min"),
    ("W4", "efficientnet-lite0-load", "ms", "torch", 1.0, "max"),
    ("W5", "frozen-backbone", "s", "torch-tcmalloc", 0.8, "max"),
    ("W6", "resnet18-step-b32-64px", "ms", "best-torch", 0.9, "max"),
    ("W10", "resnet50-b8", "images/s", "onnxruntime", 1.0, "min"),
    ("W10", "mobilenet_v3_large-b8", "images/s", "onnxruntime", 1.0, "min"),
    ("W10", "convnext_tiny-b8", "images/s", "onnxruntime", 1.0, "min"),
    # Issue 27: ViT inference ≥ the best peer's images/s; the fine-tuning step ≤ PyTorch's time.
    ("W10", "vit_b_16-b8", "images/s", "best", 1.0, "min"),
    ("W10", "vit_small_patch16_224-b8", "images/s", "best", 1.0, "min"),
    ("W11", "vit_s16-step-b32-last4", "ms", "best", 1.0, "max"),
]
# What holds a missed target back, where graft's run cannot say it itself (training steps and
# single products have no per-layer profile): from `perf` profiles of graft-bench on Zen 4 and Zen 3,
# kept beside the README's "Which kernels run which op". Inference targets are named from the run's
# own PROFILE lines (Model.profile: graft's time by kind of step).
HELD_BACK = {
    "W1": "graft's 8 × 32 AVX-512 (6 × 16 AVX2) micro-kernel and its packing; OpenBLAS's kernels differ by a few per cent from one process to the next",
    "W2": "the weight gradient: im2col of every image (7 MB of columns each at 56²) and its GEMM, and the data gradient's Winograd F(2×2, 3×3) in NCHW",
    "W6": "the GEMMs, near the machine's peak (about 44 % of the samples: the weight gradients' im2col products, 1×1 and stride-2 convolutions, Winograd's products), then Winograd's transforms (6 %), the weight gradients' unfold (4 %), the worker threads' waits (4 %), the optimizer step, max pooling and BatchNorm (2–3 % each)",
}
# Issue 28, deliverable 5: with set precision=bf16 (graft-bf16), against onnxruntime in float32.
BF16_TARGETS = [
    ("W4", "efficientnet-lite0-b8", "images/s", "onnxruntime", 1.5, "min"),
    ("W10", "resnet50-b8", "images/s", "onnxruntime", 1.5, "min"),
    ("W10", "mobilenet_v3_large-b8", "images/s", "onnxruntime", 1.5, "min"),
    ("W10", "convnext_tiny-b8", "images/s", "onnxruntime", 1.5, "min"),
]


def load(folder, name):
    """Median of the per-run medians, for each (workload, case, unit)."""
    runs = {}
    path = os.path.join(folder, f"{name}.txt")
    if not os.path.exists(path):
        return {}
    for line in open(path):
        if line.startswith("RESULT "):
            _, workload, case, unit, median, _low, _high = line.split()
            runs.setdefault((workload, case, unit), []).append(float(median))
    return {key: statistics.median(values) for key, values in runs.items()}


def ratio(value, other, unit):
    """graft/peer: time and memory (≤ 1 is better) or rate (≥ 1 is better)."""
    return value / other if other else float("nan")


def best_peer(results, key, among=None):
    unit = key[2]
    present = [(results[f][key], f) for f, _ in PEERS if key in results[f] and (among is None or f in among)]
    if not present or unit == "accuracy":
        return None
    return min(present) if unit in LOWER_IS_BETTER else max(present)


def profiles(out, mode, name="graft"):
    """graft's PROFILE lines (time by kind of step), by (workload, case)."""
    path = os.path.join(out, mode, f"{name}.txt")
    found = {}
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("PROFILE "):
                _, workload, case, text = line.rstrip("\n").split(" ", 3)
                found[(workload, case)] = text
    return found


def results_of(out, mode):
    folder = os.path.join(out, mode)
    results = {f: load(folder, f) for f, _ in PEERS}
    graft = load(folder, "graft")
    # W9's PyTorch row builds the model and loads the state dict; "-prebuilt" loads into a model built beforehand.
    if ("W9", "resnet50-load-pth", "ms") in graft:
        graft[("W9", "resnet50-load-pth-prebuilt", "ms")] = graft[("W9", "resnet50-load-pth", "ms")]
    return graft, results


def describe(unit):
    if unit in ("ms", "s"):
        return "time: ≤ 1 is faster"
    if unit == "MB":
        return "memory: ≤ 1 is leaner"
    if unit == "accuracy":
        return "graft − peer, points"
    return "rate: ≥ 1 is faster"


def table(graft, results, mode):
    names = dict(PEERS)
    print(f"\n{mode} run: graft against each peer (ratio graft/peer) and against the best peer")
    print(f"{'workload':<36}{'graft':>10} {'unit':<9}{'peer':<22}{'peer value':>11}{'ratio':>8}")
    for key, value in graft.items():
        workload, case, unit = key
        # One figure a workload: W1's rate, every other workload's time (their GFLOP/s say the same).
        if (unit == "GFLOP/s") != (workload == "W1"):
            continue
        rows = [(names[f], results[f][key]) for f, _ in PEERS if key in results[f]]
        if workload == "W5" and unit == "s":
            rows += [(names[f] + " naive", results[f][("W5", "frozen-backbone-naive", "s")])
                     for f, _ in PEERS if ("W5", "frozen-backbone-naive", "s") in results[f]]
        if not rows:
            continue
        label = f"{workload} {case}"
        for peer, other in rows:
            if unit == "accuracy":
                shown = f"{100 * (value - other):+8.1f}"
            else:
                shown = f"{ratio(value, other, unit):8.2f}"
            print(f"{label:<36}{value:>10.4g} {unit:<9}{peer:<22}{other:>11.4g}{shown}")
            label = ""
        best = best_peer(results, key)
        if best:
            print(f"{'':<36}{'':>20}{'→ best: ' + names[best[1]]:<33}{ratio(value, best[0], unit):8.2f}   ({describe(unit)})")


def target_ratio(graft, results, target):
    workload, case, unit, peer, _bound, _kind = target
    key = (workload, case, unit)
    if key not in graft:
        return None
    if peer in ("best", "best-torch"):
        best = best_peer(results, key, TORCH if peer == "best-torch" else None)
        return ratio(graft[key], best[0], unit) if best else None
    return ratio(graft[key], results[peer][key], unit) if key in results[peer] else None


def targets(graft, results, chosen=TARGETS, title="the issues' targets (one run, ratios)", profile=None):
    print(f"\n{title}")
    profile = profile or {}
    names = dict(PEERS, best="the best peer")
    names["best-torch"] = "the best PyTorch"
    for target in chosen:
        workload, case, unit, peer, bound, kind = target
        r = target_ratio(graft, results, target)
        if r is None:
            continue
        met = r <= bound if kind == "max" else r >= bound
        sign = "≤" if kind == "max" else "≥"
        print(f"  {workload} {case:<28} {r:6.2f} vs {names[peer]:<18} target {sign} {bound:g}: {'met' if met else 'MISSED'}")
        if not met:
            where = profile.get((workload, case))
            if where:
                print(f"      graft's pass by step: {where}")
            elif workload in HELD_BACK:
                print(f"      held back by: {HELD_BACK[workload]}")


def contention(out):
    quiet, contended = results_of(out, "quiet"), results_of(out, "contended")
    if not quiet[0] or not contended[0]:
        return
    print("\nratio to the best peer, quiet run vs contended run (target: within 15 % of the quiet value)")
    for key in quiet[0]:
        if key not in contended[0] or key[2] == "accuracy" or (key[2] == "GFLOP/s") != (key[0] == "W1"):
            continue
        q, c = best_peer(quiet[1], key), best_peer(contended[1], key)
        if not q or not c:
            continue
        rq, rc = ratio(quiet[0][key], q[0], key[2]), ratio(contended[0][key], c[0], key[2])
        change = rc / rq - 1
        gains = change < 0 if key[2] in LOWER_IS_BETTER else change > 0
        verdict = "within 15 %" if abs(change) <= 0.15 else ("OUTSIDE 15 %: graft gains on the peers" if gains else "OUTSIDE 15 %: graft loses")
        print(f"  {key[0]} {key[1]:<32} quiet {rq:6.2f}  contended {rc:6.2f}  {100 * change:+6.1f} %  {verdict}")


def bfloat16(out, mode, graft, results):
    """graft with set precision=bf16 against graft in float32 and the best (float32) peer."""
    half = load(os.path.join(out, mode), "graft-bf16")
    if not half:
        return
    names = dict(PEERS)
    print(f"\n{mode} run: graft with set precision=bf16 (bfloat16 products, float32 sums) against graft float32 and the best peer")
    print(f"{'workload':<36}{'bf16':>10} {'unit':<9}{'vs graft float32':>18}{'vs best peer':>14}")
    for key, value in half.items():
        workload, case, unit = key
        if (unit == "GFLOP/s") != (workload == "W1") or key not in graft:
            continue
        if unit == "accuracy":
            print(f"{workload + ' ' + case:<36}{value:>10.4g} {unit:<9}{100 * (value - graft[key]):>+15.1f} pt")
            continue
        best = best_peer(results, key)
        against = f"{ratio(value, best[0], unit):8.2f} {names[best[1]]}" if best else ""
        print(f"{workload + ' ' + case:<36}{value:>10.4g} {unit:<9}{ratio(value, graft[key], unit):>18.2f}    {against}")
    targets(half, results, BF16_TARGETS, "issue 28's bf16 targets (graft bf16 against onnxruntime float32)", profiles(out, mode, "graft-bf16"))


def main():
    out, mode = sys.argv[1], sys.argv[2]
    graft, results = results_of(out, mode)
    table(graft, results, mode)
    targets(graft, results, profile=profiles(out, mode))
    bfloat16(out, mode, graft, results)
    contention(out)


if __name__ == "__main__":
    main()
