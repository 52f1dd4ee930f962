#!/usr/bin/env bash
# Runs graft's benchmark workloads and the same workloads in the peers, in one invocation, and
# prints graft/peer ratios against every peer and against the best of them:
#   - C: a program calling cblas_sgemm directly (W1), with the OpenBLAS kernels graft chose;
#   - PyTorch stock (glibc malloc, NCHW); PyTorch with tcmalloc (LD_PRELOAD of Debian's
#     libtcmalloc-minimal4); PyTorch with tcmalloc and channels-last tensors (W2, W4, W5, W6, W10);
#   - onnxruntime (ORT_ENABLE_ALL, 2 intra-op threads) on the same models exported by torch.onnx.export
#     (W4, W9, W10); Keras 3 on TensorFlow with oneDNN (TF_ENABLE_ONEDNN_OPTS=1) for W3 and W9;
#   - the kernel libraries Debian ships (issue 28's measured choice, Benchmarks/peers/kernels.c):
#     oneDNN 2.6 with its ISA capped at AVX2 (W2 forward and both backwards, and K) and XNNPACK
#     (W2 forward, K). K is the inference layers of W4 and W10's CNNs one by one: depthwise 3×3,
#     5×5, 7×7 at strides 1 and 2, pointwise projections, a 3×3 convolution (graft-bench K).
# Two threads everywhere. On a CPU with AVX-512 BF16, graft runs W1, W2, W4, W6, W8 and W10 a second
# time with `set precision=bf16` (graft-bench --precision bf16): the report sets those figures
# against graft's float32 ones and the float32 peers (W8: the test accuracies' difference).
#
#   Benchmarks/compare.sh [--contended] [repeats] [W1 … W11 K]   (default: every workload)
#
# --contended runs everything with one single-threaded busy process pinned to the last core beside
# it (started and stopped here), for graft and the peers alike, and reports the ratios again, beside
# those of the last quiet run when there is one (Benchmarks/out/quiet).
# The peers go into a virtual environment ($GRAFT_BENCH_VENV, default Benchmarks/.venv), created and
# pip-installed on first use; not part of CI. W9 and W10's models (torchvision and Keras, random
# weights) are made once into Benchmarks/out/models by Benchmarks/peers/models.py.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=quiet
if [[ "${1:-}" == "--contended" ]]; then mode=contended; shift; fi
repeats="${1:-10}"
shift || true
selected="${*:-W1 W2 W3 W4 W5 W6 W7 W8 W9 W10 W11 K}"
selected="${selected^^}"
wants() { for w in "$@"; do [[ " $selected " == *" $w "* ]] && return 0; done; return 1; }
out=Benchmarks/out
results="$out/$mode"
venv="${GRAFT_BENCH_VENV:-Benchmarks/.venv}"
python="$venv/bin/python"
mkdir -p "$out" "$results"

echo "== building graft-bench (release) and the C peer"
swift build -c release --product graft-bench 2>&1 | tail -1
swift build -c release --product graft 2>&1 | tail -1
cc -O2 Benchmarks/peers/gemm.c $(pkg-config --cflags --libs openblas) -o "$out/gemm-peer"

if wants W2 K; then
    if [[ ! -f /usr/include/oneapi/dnnl/dnnl.h || ! -f /usr/include/xnnpack.h || ! -f /usr/include/pthreadpool.h ]]; then
        echo "== installing Debian's oneDNN and XNNPACK (the kernel-library peers)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libdnnl-dev libxnnpack-dev libpthreadpool-dev
    fi
    cc -O2 Benchmarks/peers/kernels.c -ldnnl -lXNNPACK -lpthreadpool -lm -o "$out/kernels-peer"
fi

tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
if [[ ! -f "$tcmalloc" ]]; then
    echo "== installing Debian's libtcmalloc-minimal4 (PyTorch's tcmalloc variant)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libtcmalloc-minimal4
fi
if ! "$python" -c "import torch, torchvision, timm, efficientnet_lite_pytorch, onnx, onnxruntime, onnxscript, keras, tensorflow, safetensors" 2>/dev/null; then
    echo "== installing the peers into $venv (first run only)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch torchvision timm numpy efficientnet-lite-pytorch onnx onnxruntime onnxscript \
        keras tensorflow-cpu h5py safetensors
fi
models="$out/models"
if wants W9 W10 && [[ ! -f "$models/resnet50.keras" || ! -f "$models/vit_small_patch16_224.pth" ]]; then
    echo "== making W9 and W10's models in $models (first run only)"
    "$python" Benchmarks/peers/models.py make-torch "$models"
    "$python" Benchmarks/peers/models.py make-keras "$models"
fi

busy=""
stop_busy() { [[ -n "$busy" ]] && kill "$busy" 2>/dev/null || true; }
trap stop_busy EXIT
if [[ "$mode" == contended ]]; then
    core=$(( $(nproc) - 1 ))
    taskset -c "$core" bash -c 'while :; do :; done' &
    busy=$!
    echo "== contended: a busy single-threaded process ($busy) pinned to core $core for the whole run"
fi

# The C peer calls the same OpenBLAS, with the kernels graft chose (see BLASCore.swift).
OPENBLAS_CORETYPE="$(.build/release/graft-bench --blas-core)"
export OPENBLAS_CORETYPE
echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, OpenBLAS kernels $OPENBLAS_CORETYPE, $mode"
peer_files="graft graft-bf16 c torch torch-tcmalloc torch-tcmalloc-cl onnxruntime keras onednn xnnpack"
for f in $peer_files; do : > "$results/$f.txt"; done
bench() { .build/release/graft-bench "$@" --repeats "$repeats" --threads 2 --models "$models" | tee -a "$results/graft.txt" | grep -v '^RESULT'; }
# A PyTorch peer script stock, with tcmalloc, and (when the layout matters to it) with tcmalloc and channels-last.
torch_variants() {
    local layout="$1"; shift
    "$python" "$@" >> "$results/torch.txt"
    GRAFT_PEER_VARIANT=tcmalloc LD_PRELOAD="$tcmalloc" "$python" "$@" >> "$results/torch-tcmalloc.txt"
    if [[ "$layout" == layout ]]; then
        GRAFT_PEER_VARIANT=tcmalloc-cl GRAFT_PEER_CHANNELS_LAST=1 LD_PRELOAD="$tcmalloc" "$python" "$@" >> "$results/torch-tcmalloc-cl.txt"
    fi
}
# OpenBLAS's small-GEMM speed differs from one process to the next (seen at n = 512: 1.3 or 2.5 ms,
# for graft and the C peer alike), so W1 runs in three alternating rounds and the report takes the
# median of the three medians.
if wants W1; then
    for round in 1 2 3; do
        echo "== round $round: graft W1, C cblas_sgemm"
        bench W1
        "$out/gemm-peer" "$repeats" 2 >> "$results/c.txt"
    done
fi
others=""
for w in W2 W3 W8 W7 W4 W5 W6 W9 W10 W11 K; do wants "$w" && others="$others $w"; done
if [[ -n "$others" ]]; then
    echo "== graft$others (W8 writes its exact data splits to $out/mnist-splits for the peers)"
    bench $others
fi
bf16=""
if [[ "$(.build/release/graft-bench --bf16-available)" == yes ]]; then
    for w in W1 W2 W4 W6 W8 W10; do wants "$w" && bf16="$bf16 $w"; done
fi
if [[ -n "$bf16" ]]; then
    echo "== graft$bf16 with set precision=bf16 (this CPU has AVX-512 BF16)"
    .build/release/graft-bench $bf16 --precision bf16 --repeats "$repeats" --threads 2 --models "$models" \
        | tee -a "$results/graft-bf16.txt" | grep -v '^RESULT'
fi
echo "== peers"
if wants W1 W2 W7; then torch_variants layout Benchmarks/peers/torch_bench.py "$repeats"; fi
if wants W2 K; then
    libraries=""
    for w in W2 K; do wants "$w" && libraries="$libraries $w"; done
    OMP_NUM_THREADS=2 "$out/kernels-peer" onednn "$repeats" $libraries >> "$results/onednn.txt"
    "$out/kernels-peer" xnnpack "$repeats" $libraries >> "$results/xnnpack.txt"
fi
if wants W3 W8; then
    torch_variants same Benchmarks/peers/torch_mnist.py 3
    "$python" Benchmarks/peers/keras_mnist.py 3 >> "$results/keras.txt"
fi
if wants W4 W5; then
    torch_variants layout Benchmarks/peers/torch_pretrained.py 5
    "$python" Benchmarks/peers/torch_pretrained.py "$repeats" ort >> "$results/onnxruntime.txt"
fi
if wants W6; then torch_variants layout Benchmarks/peers/torch_resnet.py "$repeats"; fi
if wants W11; then torch_variants same Benchmarks/peers/torch_vit.py "$repeats"; fi
if wants W9 W10; then
    torch_variants layout Benchmarks/peers/models.py torch "$models" "$repeats"
    "$python" Benchmarks/peers/models.py ort "$models" "$repeats" >> "$results/onnxruntime.txt"
    "$python" Benchmarks/peers/models.py keras "$models" "$repeats" >> "$results/keras.txt"
fi
stop_busy
python3 Benchmarks/report.py "$out" "$mode"
