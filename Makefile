# The README's two commands: `make quickstart` (the main job) and `make test`.
# Both install the Debian packages graft needs first (scripts/install-deps.sh; root or sudo).

.PHONY: deps quickstart test bench

deps:
	@scripts/install-deps.sh

## Builds graft in release mode and runs the quickstart.
quickstart: deps
	swift build -c release --product graft
	.build/release/graft demo

## Builds and runs the whole test suite.
test: deps
	swift test

## Engine benchmarks against the C and PyTorch peers (not part of CI; installs PyTorch into Benchmarks/.venv).
bench: deps
	Benchmarks/compare.sh
