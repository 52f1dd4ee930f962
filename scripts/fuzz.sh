#!/usr/bin/env bash
# Coverage-guided fuzzing of one reader: scripts/fuzz.sh [--address-limit] TARGET SECONDS [libFuzzer options…]
#
# Targets (Fuzz/Targets.swift): pth, safetensors, onnx, hdf5, keras, npy, image, csv, command, script.
# Builds graft-fuzz optimized (-c release: the kernels at full speed, 5–50× the inputs a second of a
# debug build) with -sanitize=fuzzer,address into .build-fuzz, then runs libFuzzer on the
# target, starting from its committed seed corpus (Fuzz/corpus/TARGET) with its dictionary
# (Fuzz/dict/TARGET.dict). New inputs go to .build-fuzz/corpus/TARGET; a crash is written to
# .build-fuzz/crashes/TARGET/ and fails the run (add it to the seed corpus and a regression test).
#
# --address-limit: the build without AddressSanitizer (-sanitize=fuzzer only, into .build-fuzz-plain),
# run with its address space capped at 4 GiB (`ulimit -v`, as in a container), so that a lazily mapped
# giant cannot hide: an input that asks for more than the cap kills the run. (AddressSanitizer
# reserves terabytes of shadow address space, so it cannot run under such a cap; the two builds
# complement each other.)
#
# `scripts/fuzz.sh all SECONDS` runs every target for SECONDS each; `scripts/fuzz.sh ci` runs each a
# fixed number of inputs from a fixed seed with AddressSanitizer, then the same inputs again with the
# plain build under the address-space cap (what CI runs: the same inputs every time).
set -euo pipefail
cd "$(dirname "$0")/.."
variants=(asan)
if [[ "${1:-}" == --address-limit ]]; then variants=(plain); shift; fi
target="${1:?usage: scripts/fuzz.sh [--address-limit] TARGET|all SECONDS, or scripts/fuzz.sh ci}"
shift
seconds=60
if [[ "$target" != ci && $# -gt 0 ]]; then seconds="$1"; shift; fi
[[ "$target" == ci ]] && variants=(asan plain)
targets="pth safetensors onnx hdf5 keras npy image csv command script hfconfig"
# Inputs per target in CI (10–20 s each here with AddressSanitizer; the HDF5, Keras and script targets build whole models).
declare -A ci_runs=([pth]=90000 [safetensors]=90000 [onnx]=60000 [hdf5]=1500 [keras]=3000 [npy]=45000 [image]=4000 [csv]=10000 [command]=3000 [script]=300 [hfconfig]=20000)
# The address-space cap of the plain build (KiB): 4 GiB.
address_limit=4194304
export SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1"
status=0
for variant in "${variants[@]}"; do
    if [[ $variant == asan ]]; then
        scratch=.build-fuzz sanitizers=fuzzer,address
    else
        scratch=.build-fuzz-plain sanitizers=fuzzer
    fi
    echo "== building graft-fuzz with -sanitize=$sanitizers ($scratch)"
    swift build -c release --scratch-path "$scratch" --product graft-fuzz -Xswiftc -sanitize=$sanitizers -Xswiftc -DFUZZING -Xswiftc -use-ld=lld 2>&1 \
        | grep -v "Cannot export local symbol '__asan" | tail -3
    binary=$scratch/release/graft-fuzz
    for t in $([[ "$target" == all || "$target" == ci ]] && echo "$targets" || echo "$target"); do
        corpus="$scratch/corpus/$t"
        crashes="$scratch/crashes/$t"
        mkdir -p "$corpus" "$crashes"
        dict=()
        [[ -f "Fuzz/dict/$t.dict" ]] && dict=(-dict="Fuzz/dict/$t.dict")
        if [[ "$target" == ci ]]; then
            # A corpus of its own, emptied each time (the long runs' corpus is kept).
            corpus="$scratch/ci-corpus/$t"
            rm -rf "$corpus" && mkdir -p "$corpus"
            limit=(-runs="${ci_runs[$t]}" -seed=1)
            echo "== $t ($variant): ${ci_runs[$t]} inputs from seed 1"
        else
            limit=(-max_total_time="$seconds")
            echo "== $t ($variant) for $seconds s"
        fi
        if ! ( if [[ $variant == plain ]]; then ulimit -v $address_limit; fi; GRAFT_FUZZ_TARGET="$t" exec "$binary" "$corpus" "Fuzz/corpus/$t" "${dict[@]}" \
            "${limit[@]}" -rss_limit_mb=2048 -max_len=1048576 -timeout=20 -print_final_stats=1 \
            -artifact_prefix="$crashes/" "$@" ) > "$scratch/$t.log" 2>&1; then
            echo "FAIL: $t ($variant) found a crash: $(ls "$crashes" | head -3)"; tail -30 "$scratch/$t.log"; status=1
        fi
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: " "$scratch/$t.log" | tail -3 | tr '\n' ' '
        echo "corpus $(ls "$corpus" | wc -l) files"
    done
done
exit $status
