#!/usr/bin/env bash
# Coverage-guided fuzzing of one reader: scripts/fuzz.sh TARGET SECONDS [libFuzzer options…]
#
# Targets (Fuzz/main.swift): pth, safetensors, onnx, hdf5, keras, npy, image, csv, command.
# Builds graft-fuzz with -sanitize=fuzzer,address into .build-fuzz, then runs libFuzzer on the
# target, starting from its committed seed corpus (Fuzz/corpus/TARGET) with its dictionary
# (Fuzz/dict/TARGET.dict). New inputs go to .build-fuzz/corpus/TARGET; a crash is written to
# .build-fuzz/crashes/TARGET/ and fails the run (add it to the seed corpus and a regression test).
# `scripts/fuzz.sh all SECONDS` runs every target for SECONDS each.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/fuzz.sh TARGET|all SECONDS}"
seconds="${2:-60}"
shift 2 || true
targets="pth safetensors onnx hdf5 keras npy image csv command"
echo "== building graft-fuzz with libFuzzer and AddressSanitizer (.build-fuzz)"
swift build --scratch-path .build-fuzz --product graft-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld 2>&1 \
    | grep -v "Cannot export local symbol '__asan" | tail -3
binary=.build-fuzz/debug/graft-fuzz
export SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1"
status=0
for t in $([[ "$target" == all ]] && echo "$targets" || echo "$target"); do
    mkdir -p ".build-fuzz/corpus/$t" ".build-fuzz/crashes/$t"
    dict=()
    [[ -f "Fuzz/dict/$t.dict" ]] && dict=(-dict="Fuzz/dict/$t.dict")
    echo "== $t for $seconds s"
    if ! GRAFT_FUZZ_TARGET="$t" "$binary" ".build-fuzz/corpus/$t" "Fuzz/corpus/$t" "${dict[@]}" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=1048576 -timeout=20 -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/crashes/$t/" "$@" > ".build-fuzz/$t.log" 2>&1; then
        echo "FAIL: $t found a crash: $(ls .build-fuzz/crashes/$t | head -3)"; tail -30 ".build-fuzz/$t.log"; status=1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: " ".build-fuzz/$t.log" | tail -3 | tr '\n' ' '
    echo "corpus $(ls ".build-fuzz/corpus/$t" | wc -l) files"
done
exit $status
