# The README's two commands: `make quickstart` (the main job) and `make test`.
# Both install the Debian packages graft needs first (scripts/install-deps.sh; root or sudo).

.PHONY: deps quickstart test bench

deps:
	@scripts/install-deps.sh

## Builds graft in release mode and replays the quickstart session (MNIST transfer learning), checking its figures.
quickstart: deps
	swift build -c release --product graft
	.build/release/graft run --verify Sessions/quickstart.graft

## Builds and runs the whole test suite.
test: deps
	swift test --no-parallel

## Engine benchmarks against the C and PyTorch peers (not part of CI; installs PyTorch into Benchmarks/.venv).
bench: deps
	Benchmarks/compare.sh
