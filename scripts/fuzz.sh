#!/usr/bin/env bash
# Coverage-guided fuzzing of one reader: scripts/fuzz.sh TARGET SECONDS [libFuzzer options…]
#
# Targets (Fuzz/Targets.swift): pth, safetensors, onnx, hdf5, keras, npy, image, csv, command, script.
# Builds graft-fuzz optimized (-c release: the kernels at full speed, 5–50× the inputs a second of a
# debug build) with -sanitize=fuzzer,address into .build-fuzz, then runs libFuzzer on the
# target, starting from its committed seed corpus (Fuzz/corpus/TARGET) with its dictionary
# (Fuzz/dict/TARGET.dict). New inputs go to .build-fuzz/corpus/TARGET; a crash is written to
# .build-fuzz/crashes/TARGET/ and fails the run (add it to the seed corpus and a regression test).
# `scripts/fuzz.sh all SECONDS` runs every target for SECONDS each; `scripts/fuzz.sh ci` runs each a
# fixed number of inputs from a fixed seed (what CI runs: the same inputs every time, about 20 s each).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/fuzz.sh TARGET|all SECONDS, or scripts/fuzz.sh ci}"
shift
seconds=60
if [[ "$target" != ci && $# -gt 0 ]]; then seconds="$1"; shift; fi
targets="pth safetensors onnx hdf5 keras npy image csv command script"
# Inputs per target in CI (10–20 s each here; the HDF5, Keras and script targets build whole models).
declare -A ci_runs=([pth]=90000 [safetensors]=90000 [onnx]=60000 [hdf5]=1500 [keras]=3000 [npy]=45000 [image]=4000 [csv]=10000 [command]=3000 [script]=300)
echo "== building graft-fuzz with libFuzzer and AddressSanitizer (.build-fuzz)"
swift build -c release --scratch-path .build-fuzz --product graft-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld 2>&1 \
    | grep -v "Cannot export local symbol '__asan" | tail -3
binary=.build-fuzz/release/graft-fuzz
export SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1"
status=0
for t in $([[ "$target" == all || "$target" == ci ]] && echo "$targets" || echo "$target"); do
    corpus=".build-fuzz/corpus/$t"
    mkdir -p "$corpus" ".build-fuzz/crashes/$t"
    dict=()
    [[ -f "Fuzz/dict/$t.dict" ]] && dict=(-dict="Fuzz/dict/$t.dict")
    if [[ "$target" == ci ]]; then
        # A corpus of its own, emptied each time (the long runs' corpus is kept).
        corpus=".build-fuzz/ci-corpus/$t"
        rm -rf "$corpus" && mkdir -p "$corpus"
        limit=(-runs="${ci_runs[$t]}" -seed=1)
        echo "== $t: ${ci_runs[$t]} inputs from seed 1"
    else
        limit=(-max_total_time="$seconds")
        echo "== $t for $seconds s"
    fi
    if ! GRAFT_FUZZ_TARGET="$t" "$binary" "$corpus" "Fuzz/corpus/$t" "${dict[@]}" \
        "${limit[@]}" -rss_limit_mb=2048 -max_len=1048576 -timeout=20 -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/crashes/$t/" "$@" > ".build-fuzz/$t.log" 2>&1; then
        echo "FAIL: $t found a crash: $(ls .build-fuzz/crashes/$t | head -3)"; tail -30 ".build-fuzz/$t.log"; status=1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: " ".build-fuzz/$t.log" | tail -3 | tr '\n' ' '
    echo "corpus $(ls "$corpus" | wc -l) files"
done
exit $status
