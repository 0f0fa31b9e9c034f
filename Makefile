# open-notebook: build, run and test. `make test` is the one command CI runs.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: build release run test deps lint unit offline-net static bench fuzz clean-data ui-test

build:
	$(CARGO) build

release:
	$(CARGO) build --release

run: release
	./target/release/open-notebook serve

# Everything a fresh machine needs for the test run beyond the Rust toolchain.
deps:
	@command -v ip >/dev/null && command -v unshare >/dev/null || \
	  (apt-get update -qq && apt-get install -y -qq iproute2 util-linux)
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

unit:
	$(CARGO) test --all-features

# The URL-safety tests again with no network but loopback: a refusal can reach nothing.
offline-net:
	unshare -n sh -c 'ip link set lo up && $(CARGO) test --offline --lib net::'

test: deps lint ui-test unit offline-net

static:
	@command -v musl-gcc >/dev/null || (apt-get update -qq && apt-get install -y -qq musl-tools)
	rustup target add x86_64-unknown-linux-musl
	$(CARGO) build --release --target x86_64-unknown-linux-musl

bench:
	$(CARGO) bench

fuzz:
	cd fuzz && $(CARGO) fuzz run -s none extract -- -max_total_time=60

# Browser smoke test of the web UI (not part of `make test`): Debian's chromium driven by
# playwright-core against a debug server on loopback.
ui-test:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium)
	cd tests/ui && npm ci --no-audit --no-fund
	$(CARGO) build
	node tests/ui/smoke.mjs
