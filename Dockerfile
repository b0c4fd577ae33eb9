# syntax=docker/dockerfile:1
# The ordertrace executable in a small Debian image: every OrderTrace service of
# compose/docker-compose.yml runs it (`ordertrace <subcommand>`). Build context: the repository's
# root (compose/docker-compose.yml says `context: ..`).
#
# The builder is the official Swift image of Swift 6.3 on Debian 12 (bookworm), the runtime the
# same Debian release, so the system libraries the binary links (librdkafka 2.0.2, SQLite, zlib)
# are the same versions at build and at run time.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS builder
# The system libraries Package.swift names: librdkafka (CRdKafka, pkg-config `rdkafka`), zlib
# (CZlib, pkg-config `zlib`), SQLite (GRDB links the system's libsqlite3) and tcmalloc (the
# executable's memory allocator).
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends librdkafka-dev libsqlite3-dev libtcmalloc-minimal4 zlib1g-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The dependencies first, from the manifest alone: this layer is kept while only sources change.
COPY Package.swift ./
RUN swift package resolve
COPY . .
# The Swift runtime and Foundation linked in; the Explorer's web UI is a resource bundle
# (OrderTrace_Explorer.resources) that Bundle.module looks for next to the executable.
RUN swift build -c release --product ordertrace --static-swift-stdlib \
    && bin="$(swift build -c release --show-bin-path)" \
    && mkdir -p /out \
    && cp "$bin/ordertrace" /out/ \
    && cp -R "$bin"/*.resources /out/

FROM ${RUNTIME_IMAGE}
# librdkafka1, libsqlite3-0 and libtcmalloc-minimal4: what the binary links besides libc,
# libstdc++ and zlib (zlib1g), which the base image has. curl: the compose health checks. kcat:
# to look into Kafka from inside the stack (`docker compose exec order-manager kcat -b kafka-1:9092 -L`).
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends librdkafka1 libsqlite3-0 libtcmalloc-minimal4 ca-certificates curl kcat \
    && rm -rf /var/lib/apt/lists/*
# A user of its own, and /data owned by it: a named volume mounted at /data starts as a copy of
# this folder, ownership included, so the allocator and the explorer can write their SQLite files.
RUN groupadd --system --gid 10001 ordertrace \
    && useradd --system --uid 10001 --gid ordertrace --home-dir /data --no-create-home --shell /usr/sbin/nologin ordertrace \
    && mkdir -p /data \
    && chown ordertrace:ordertrace /data
COPY --from=builder /out/ /usr/local/bin/
COPY topics/ /topics/
ENV ORDERTRACE_TOPICS_DIR=/topics \
    ORDERTRACE_DATA_DIR=/data
WORKDIR /data
USER ordertrace:ordertrace
ENTRYPOINT ["ordertrace"]
CMD ["--help"]
