# Stelling: `make run` starts the server on the example seminar, `make test` runs every test,
# `make bench` measures the standard load sizes (docs/BENCHMARKS.md).
# Both install what a fresh Debian machine lacks first.

SWIFT ?= swift
CONFIG ?= config/seminar.yaml
APT_PACKAGES := libwebsockets-dev pkg-config libsqlite3-dev
BENCH_PACKAGES := jq curl util-linux

.PHONY: run test build release deps bench-deps bench clean check-config browser-test

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

bench-deps:
	@missing=""; for p in $(BENCH_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# Release build; server on core 0, load tool on core 1; prints one table (takes a few minutes).
bench: deps bench-deps release
	bench/run.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

run: release
	.build/release/stelling serve --config $(CONFIG)

check-config: build
	.build/debug/stelling check-config $(CONFIG)

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	STELLING_BIN=$(CURDIR)/.build/debug/stelling bash tests-browser/run.sh

# Real-browser tests of the web pages (headless Chromium); screenshots in test-output/screenshots/.
browser-test: deps
	bash tests-browser/run.sh

clean:
	rm -rf .build
