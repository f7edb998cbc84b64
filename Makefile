# Stelling: `make run` starts the server on the example seminar, `make test` runs every test,
# `make bench` measures the standard load sizes (docs/BENCHMARKS.md).
# Both install what a fresh Debian machine lacks first. `make node NODE=a` and `make node NODE=b`
# (two terminals) serve the example seminar from two nodes on one port through a local Redis
# (README, "More than one node"); `make redis-stop` stops that Redis.

SWIFT ?= swift
CONFIG ?= config/seminar.yaml
NODE ?= a
APT_PACKAGES := libwebsockets-dev pkg-config libsqlite3-dev libqrencode-dev qrencode librsvg2-bin zbar-tools libev-dev libuv1-dev nginx curl python3 libhiredis-dev redis-server
BENCH_PACKAGES := jq curl util-linux gcc iproute2

.PHONY: run node redis redis-stop test build release deps embed-web nginx-test bench-deps bench bench-cluster bench-analysis soak clean check-config browser-test fuzz reference

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

# Release build and the plain-C reference server; each row against both, three times each, server
# on core 0, load tool on core 1; prints one table with the medians and Stelling / reference (docs/BENCHMARKS.md).
bench: deps bench-deps release reference
	bench/run.sh
	bench/cluster.sh

# The cluster rows (issue 16): chat and votes on one node beside two nodes + Redis (node a on core 0,
# node b on core 1), and 30,000 participants held across the two (docs/BENCHMARKS.md, "Cluster").
bench-cluster: deps bench-deps release
	bench/cluster.sh

# The reference server of the benchmarks (bench/reference/reference.c), on the same libwebsockets.
REFERENCE := .build-reference/stelling-reference
reference: $(REFERENCE)
$(REFERENCE): bench/reference/reference.c
	@mkdir -p $(dir $@)
	cc -std=gnu11 -O2 -g -Wall -Wextra -o $@ $< $$(pkg-config --cflags --libs libwebsockets)

# A long soak (SOAK_MINUTES, default 30) of mixed load with clients coming and going; figures in docs/BENCHMARKS.md.
# The opinion analysis on made-up votes: 10,000 participants x 30 statements on one thread (docs/BENCHMARKS.md).
bench-analysis: deps release
	.build/release/stelling analyse --bench --participants 10000 --statements 30 --runs 7

soak: deps bench-deps release
	bench/soak.sh

# The web pages built into the binary (Sources/StellingLWS/Server/EmbeddedWeb.swift, from web/).
embed-web:
	python3 scripts/embed-web.py

build: deps embed-web
	$(SWIFT) build

release: deps embed-web
	$(SWIFT) build -c release

run: release
	.build/release/stelling serve --config $(CONFIG)

# One node of the two-node example event (config/cluster-$(NODE).yaml, port 8080 shared through
# SO_REUSEPORT): starts a local Redis first when none answers on 127.0.0.1:6380 (data/redis/) and
# gives every node the same moderator key (data/cluster.moderator-key); scripts/cluster.sh.
node: release
	bash scripts/cluster.sh node $(NODE) $(CURDIR)/.build/release/stelling

# Only the local Redis of `make node` (appendonly yes, appendfsync always, files in data/redis/).
redis: deps
	bash scripts/cluster.sh redis

# Stops the Redis that `make node` / `make redis` started (never another one); the event stays in data/redis/.
redis-stop:
	bash scripts/cluster.sh redis-stop

check-config: build
	.build/debug/stelling check-config $(CONFIG)

test: deps embed-web
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	STELLING_BIN=$(CURDIR)/.build/debug/stelling bash tests-nginx/run.sh
	STELLING_BIN=$(CURDIR)/.build/debug/stelling bash tests-nginx/cluster.sh
	STELLING_BIN=$(CURDIR)/.build/debug/stelling bash tests-browser/run.sh

# Real nginx in front, with docs/DEPLOYMENT.md's own blocks: one server, and two cluster nodes (part of `make test`).
nginx-test: deps
	$(SWIFT) build
	STELLING_BIN=$(CURDIR)/.build/debug/stelling bash tests-nginx/run.sh
	STELLING_BIN=$(CURDIR)/.build/debug/stelling bash tests-nginx/cluster.sh

# Real-browser tests of the web pages (headless Chromium); screenshots in test-output/screenshots/.
browser-test: deps
	bash tests-browser/run.sh

# libFuzzer on the core for FUZZ_SECONDS (not part of `make test`; docs/FUZZING.md). New inputs go to
# .build-fuzz-libfuzzer/corpus, crashes to test-output/fuzz/; the seeds in fuzz/corpus stay untouched.
FUZZ_SECONDS ?= 60
FUZZ_BUILD := .build-fuzz-libfuzzer
fuzz:
	mkdir -p $(FUZZ_BUILD)/corpus test-output/fuzz
	@# The gold linker warns once per ASan helper symbol ("Cannot export local symbol"): harmless, filtered.
	$(SWIFT) build --package-path fuzz --scratch-path $(FUZZ_BUILD) -c release \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >$(FUZZ_BUILD)/build.log 2>&1; \
		status=$$?; grep -v 'Cannot export local symbol' $(FUZZ_BUILD)/build.log; exit $$status
	$(FUZZ_BUILD)/release/stelling-fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
		-dict=fuzz/stelling.dict -artifact_prefix=test-output/fuzz/ -print_final_stats=1 \
		$(FUZZ_BUILD)/corpus fuzz/corpus

clean:
	rm -rf .build
