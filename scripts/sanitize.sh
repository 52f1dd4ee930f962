#!/usr/bin/env bash
# Runs tests under a sanitizer: scripts/sanitize.sh asan   (the whole suite, AddressSanitizer)
#                               scripts/sanitize.sh tsan   (the engine's tests, ThreadSanitizer)
# Each builds into a scratch folder of its own (.build-asan, .build-tsan), so the ordinary build is
# left alone. LeakSanitizer's reports from inside libXCTest are suppressed (scripts/lsan.supp); any
# other report fails the run. Tests that drive the graft binary run the ordinary debug build
# (.build/debug/graft): build it first.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:?usage: scripts/sanitize.sh asan|tsan [swift test options…]}"
shift
export SWIFT_BACKTRACE=enable=no
case "$kind" in
asan)
    export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1" LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
    swift build --build-tests --scratch-path .build-asan -Xswiftc -sanitize=address 2>&1 | tail -1
    swift test --skip-build --scratch-path .build-asan --no-parallel "$@" ;;
tsan)
    export TSAN_OPTIONS="halt_on_error=1"
    swift build --build-tests --scratch-path .build-tsan -Xswiftc -sanitize=thread 2>&1 | tail -1
    swift test --skip-build --scratch-path .build-tsan --no-parallel --filter GraftTensorTests "$@" ;;
*) echo "usage: scripts/sanitize.sh asan|tsan" >&2; exit 2 ;;
esac
