#!/usr/bin/env bash
# Portable numerics, whole: every shipped session (Sessions/*.graft, Sessions/parts/*.graft) replayed
# verified with the release build under every OpenBLAS kernel family this CPU can run, and with
# graft's AVX-512 GEMM switched off (GRAFT_WIDE_KERNELS=off). Every figure, weight digests included,
# must be identical to the recording ("figures: N identical", nothing "within tolerance").
#
#   scripts/check-portable.sh          the quickstart under each family (a few minutes)
#   scripts/check-portable.sh --all    every shipped session under each family
#
# Where the environment sets OPENBLAS_CORETYPE (some machines do, on purpose), it is kept: the
# sessions replay under that family alone.
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=(Sessions/quickstart.graft)
[[ "${1:-}" == "--all" ]] && sessions=(Sessions/*.graft Sessions/parts/*.graft)
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { for f in "$@"; do [[ " $flags " == *" $f "* ]] || return 1; done; }
families=()
if [[ -n "${OPENBLAS_CORETYPE:-}" ]]; then
    families=("$OPENBLAS_CORETYPE")
else
    has pni && families+=(Prescott)  # SSE3 is "pni" in /proc/cpuinfo
    has sse4_2 && families+=(Nehalem)
    has avx && families+=(Sandybridge)
    has avx2 fma && families+=(Haswell Zen)
    has avx512f avx512cd avx512bw avx512dq avx512vl && families+=(SkylakeX)
    has avx512f avx512cd avx512bw avx512dq avx512vl avx512_bf16 && families+=(Cooperlake)
fi
echo "== building graft (release)"
swift build -c release --product graft 2>&1 | tail -1
failures=0
run() {
    local label="$1" session="$2"; shift 2
    local log start
    log=$(mktemp); start=$(date +%s)
    if env "$@" .build/release/graft run --verify "$session" > "$log" 2>&1 && grep -q "identical" "$log" && ! grep -q "within tolerance" "$log"; then
        echo "ok   $label $session: $(tail -1 "$log") ($(( $(date +%s) - start )) s)"
    else
        echo "FAIL $label $session:"; tail -5 "$log"; failures=$((failures + 1))
    fi
    rm -f "$log"
}
for session in "${sessions[@]}"; do
    for family in "${families[@]}"; do run "OPENBLAS_CORETYPE=$family" "$session" OPENBLAS_CORETYPE="$family"; done
    has avx512f && run "GRAFT_WIDE_KERNELS=off" "$session" GRAFT_WIDE_KERNELS=off
done
echo "kernel families: ${families[*]}"
if [[ $failures -gt 0 ]]; then echo "$failures replays differ"; exit 1; fi
echo "every replay identical"
