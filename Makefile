# OrderTrace: `make up` runs the system, `make test` runs the tests. Both install what they need.
SWIFT ?= swift
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
COMPOSE_FILE := compose/docker-compose.yml

.PHONY: deps test-deps build release test test-otel up up-local up-embedded down demo bench bench-lag clean

# librdkafka (the Kafka client library), kcat (the Kafka command-line tool), SQLite (the
# allocator's state, which GRDB links as the system's libsqlite3) and tcmalloc (the memory
# allocator the ordertrace executable links instead of glibc's malloc), from Debian/Ubuntu.
deps:
	@if ! pkg-config --exists rdkafka sqlite3 2>/dev/null || ! command -v kcat >/dev/null 2>&1 \
		|| ! /sbin/ldconfig -p | grep -q 'libtcmalloc_minimal\.so\.4 '; then \
		echo "installing librdkafka-dev, libsqlite3-dev, libtcmalloc-minimal4 and kcat"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq librdkafka-dev libsqlite3-dev libtcmalloc-minimal4 kcat pkg-config; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "Swift 6 is required: https://www.swift.org/install/"; exit 1; }

# The OpenTelemetry Python SDK, its protobuf definitions and its OTLP/HTTP exporter, one release
# for all four: the interoperability tests check our headers against the SDK, the wire tests
# decode our OTLP with it, and the explorer's tests receive spans from its exporter.
# prometheus-client: the reference parser our /metrics is checked with. Chromium:
# the explorer's UI tests load its page headless. Prometheus (Debian's package): promtool checks
# compose/'s config and a real server answers the Grafana dashboard's queries. PyYAML: the
# compose tests read compose/'s YAML with it (Tests/Interop/yaml_json.py).
test-deps: deps
	@command -v python3 >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3 python3-pip; }
	@python3 -c 'import prometheus_client' 2>/dev/null || python3 -m pip install -q prometheus-client
	@python3 -c 'import yaml' 2>/dev/null || python3 -m pip install -q PyYAML
	@python3 -c 'import opentelemetry.sdk, opentelemetry.proto, opentelemetry.exporter.otlp.proto.http' 2>/dev/null || \
		python3 -m pip install -q opentelemetry-api==1.27.0 opentelemetry-sdk==1.27.0 opentelemetry-proto==1.27.0 opentelemetry-exporter-otlp-proto-http==1.27.0
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	@{ command -v promtool && command -v prometheus; } >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq prometheus; }

build: deps
	$(SWIFT) build

# At most 12 tests at once: every integration test starts brokers, clients or whole pipelines,
# and on two cores running all of them together once starved the socket tests past their
# timeouts (Swift Testing's own limit; a toolchain without it ignores the variable).
TEST_WIDTH := SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=12

test: test-deps
	python3 scripts/check-architecture.py
	$(TEST_WIDTH) $(SWIFT) test

# The same suite with swift-otel built in (the OTel package trait): ORDERTRACE_TRACER=otel and the
# tests that compare both tracers. It shares .build with `make test`, which it rebuilds our
# modules in (the trait changes their compile conditions), not the dependencies.
test-otel: test-deps
	$(TEST_WIDTH) $(SWIFT) test --traits OTel

# The whole system: Docker Compose with Apache Kafka when a Docker engine answers and the stack
# is defined, otherwise everything on one machine around the embedded broker.
up: deps
	@if [ -f $(COMPOSE_FILE) ] && docker info >/dev/null 2>&1; then \
		docker compose -f $(COMPOSE_FILE) up --build; \
	else \
		$(MAKE) --no-print-directory up-local; \
	fi

# ordertrace in release mode (what `make up` and `make demo` run).
release: deps
	$(SWIFT) build -c release --product ordertrace

# Everything on this machine around the embedded broker, whether Docker answers or not.
up-local: release
	$$($(SWIFT) build -c release --show-bin-path)/ordertrace up

up-embedded: up-local

down:
	@if [ -f $(COMPOSE_FILE) ] && docker info >/dev/null 2>&1; then \
		docker compose -f $(COMPOSE_FILE) down; \
	else \
		echo "no compose stack runs here: Ctrl-C stops make up"; \
	fi

# A realistic stream of orders into the running system (`make up` in another terminal), then
# where to look: a few orders with their explorer links, the lag and the audit.
# DEMO_ARGS="--rate 500 --duration 60" makes it a load generator.
demo: release
	$$($(SWIFT) build -c release --show-bin-path)/ordertrace demo $(DEMO_ARGS)

bench: deps
	$(SWIFT) build -c release --product ordertrace
	$$($(SWIFT) build -c release --show-bin-path)/ordertrace bench kafka

# The lag monitor's CPU cost: 50 groups x 100 partitions every 5 s for 60 s, against 2% of one core
# (the broker and the groups' load run in other processes). Exits 1 over budget.
bench-lag: deps
	$(SWIFT) build -c release --product ordertrace
	$$($(SWIFT) build -c release --show-bin-path)/ordertrace bench lag

clean:
	rm -rf .build
