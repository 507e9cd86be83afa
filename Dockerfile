# syntax=docker/dockerfile:1
# Optimus container image. The build stage runs the same script as the README (scripts/build.sh):
# cargo-leptos release build of the server binary and the wasm site.

FROM rust:1.95-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm pkg-config ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ENV CARGO_TARGET_DIR=/src/target
RUN bash scripts/build.sh

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/optimus optimus \
 && mkdir -p /var/lib/optimus \
 && chown optimus:optimus /var/lib/optimus
COPY --from=build /src/target/release/optimus /src/target/release/optimus-shim /usr/local/bin/
COPY --from=build /src/target/site /usr/share/optimus/site
ENV OPTIMUS_BIND=0.0.0.0:8005 \
    OPTIMUS_DATA_DIR=/var/lib/optimus \
    OPTIMUS_SITE_ROOT=/usr/share/optimus/site \
    OPTIMUS_LOG_FORMAT=json
USER optimus
WORKDIR /var/lib/optimus
VOLUME ["/var/lib/optimus"]
EXPOSE 8005
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8005/healthz || exit 1
ENTRYPOINT ["optimus"]
CMD ["serve"]
