# Optimus container image: `docker build -t optimus .` (BuildKit: only the stages the image needs
# are built). The build stage runs the same script as the README (scripts/build.sh): a release
# build of the server binary and the wasm site.
#
# Build arguments:
#   RUNTIME_BASE  the runtime stage's base (default debian:bookworm-slim; any Debian bookworm).
#   BINARIES      `build` (default) compiles here; `prebuilt` takes prebuilt/optimus,
#                 prebuilt/optimus-shim, prebuilt/optimus-proxy (stripped) and prebuilt/site/ from
#                 the context instead. The test
#                 command uses it to put its own release build into this same runtime stage
#                 (scripts/container.sh), as no Rust toolchain can be fetched inside a build there.
ARG RUNTIME_BASE=debian:bookworm-slim
ARG BINARIES=build

FROM rust:1.95-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm pkg-config ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ENV CARGO_TARGET_DIR=/src/target
# Symbols stripped (a third of the binary): a panic still says what and where, without names in a
# backtrace.
RUN bash scripts/build.sh \
 && mkdir -p /out \
 && cp target/release/optimus target/release/optimus-shim target/release/optimus-proxy /out/ \
 && strip /out/optimus /out/optimus-shim /out/optimus-proxy \
 && cp -r target/site /out/site

FROM scratch AS prebuilt
COPY prebuilt/ /out/

FROM ${BINARIES} AS binaries

# pg_dump and psql (PostgreSQL 15) for database backups and restores, without the rest of Debian's
# postgresql-client package: its wrapper scripts pull in all of perl (about 85 MiB).
FROM ${RUNTIME_BASE} AS pgclient
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 \
 && mkdir -p /out \
 && cp /usr/lib/postgresql/15/bin/pg_dump /usr/lib/postgresql/15/bin/psql /out/

FROM ${RUNTIME_BASE} AS runtime
# tini is PID 1: it forwards SIGTERM to Optimus and reaps the processes Optimus's services leave
# behind. ca-certificates serve the services Optimus supervises (Optimus itself carries its roots).
# libpq5, libreadline8, liblz4-1 and libzstd1 are what pg_dump and psql (copied below) link to:
# they dump and restore PostgreSQL databases for backups, Optimus's own included (servers up to
# version 15). rclone reaches backup repositories kept on an SFTP server.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
      libpq5 libreadline8 liblz4-1 libzstd1 rclone \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
 && useradd --uid 10001 --user-group --no-create-home --home-dir /var/lib/optimus \
      --shell /usr/sbin/nologin optimus \
 && mkdir -p /var/lib/optimus \
 && chown optimus:optimus /var/lib/optimus
LABEL org.opencontainers.image.title="optimus" \
      org.opencontainers.image.description="A self-hosted control center for software projects"
COPY --from=binaries /out/optimus /out/optimus-shim /out/optimus-proxy /usr/local/bin/
COPY --from=binaries /out/site /usr/share/optimus/site
COPY --from=pgclient /out/pg_dump /out/psql /usr/local/bin/
ENV OPTIMUS_BIND=0.0.0.0:8005 \
    OPTIMUS_DATA_DIR=/var/lib/optimus \
    OPTIMUS_SITE_ROOT=/usr/share/optimus/site \
    OPTIMUS_LOG_FORMAT=json
USER optimus
WORKDIR /var/lib/optimus
VOLUME ["/var/lib/optimus"]
EXPOSE 8005
# `optimus health` asks this instance's /healthz (no curl in the image).
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
  CMD ["optimus", "health"]
ENTRYPOINT ["tini", "--", "optimus"]
CMD ["serve"]
