# Stelling: `make run` starts the server on the example seminar, `make test` runs every test.
# Both install what a fresh Debian machine lacks first.

SWIFT ?= swift
CONFIG ?= config/seminar.yaml
APT_PACKAGES := libwebsockets-dev pkg-config libsqlite3-dev

.PHONY: run test build release deps clean check-config browser-test

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

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
