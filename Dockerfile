# newswatch in a container: newswatch-producer and newswatch-consumer built from
# this repository on Debian 12, run from a slim Debian 12 image as a non-root user.
# docker-compose.yml uses this image (newswatch:local) beside Apache Kafka's own
# image; see docs/docker.md. Build on its own with: docker build -t newswatch:local .

# ---- build stage: compile and `make install` into /out ----------------------
FROM debian:12 AS build

ARG DEBIAN_FRONTEND=noninteractive
# The build packages of scripts/deps (the test and demo tools are not needed here).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        build-essential pkg-config \
        librdkafka-dev libjansson-dev libicu-dev libcmocka-dev libcurl4-openssl-dev \
        libsystemd-dev libmicrohttpd-dev libxml2-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# .dockerignore keeps bin/, build/, .kafka/ and .git out, so this is a clean build.
COPY . .
# install: programs in $PREFIX/bin, config/* in $PREFIX/share/newswatch/config/,
# README.md and docs/*.md in $PREFIX/share/doc/newswatch/.
RUN make all \
 && make install PREFIX=/usr/local DESTDIR=/out

# ---- runtime stage: the programs, their shared libraries, config, samples --
FROM debian:12-slim AS runtime

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        librdkafka1 libjansson4 libicu72 libcurl4 libsystemd0 libmicrohttpd12 libxml2 \
        ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 newswatch \
 && useradd --system --uid 10001 --gid newswatch --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin newswatch

COPY --from=build /out/ /
# The five seed documents, for the compose file's one-shot producer.
COPY samples/seeds/ /usr/local/share/newswatch/samples/seeds/

# Numeric, so that "run as non-root" policies can verify it.
USER 10001:10001
WORKDIR /usr/local/share/newswatch

CMD ["newswatch-consumer", "--help"]
