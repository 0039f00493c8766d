# newswatch: `make test` and `make demo` set everything up themselves (packages,
# build, a local Kafka). `make help` lists the targets.

PREFIX      ?= /usr/local
DESTDIR     ?=
# make install: configuration in $(SYSCONFDIR)/newswatch/ (/etc for PREFIX=/usr,
# else $(PREFIX)/etc), the systemd unit in $(SYSTEMD_UNIT_DIR).
SYSCONFDIR  ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
CC          ?= cc
PKG_CONFIG  ?= pkg-config
CLANG_FORMAT ?= clang-format
KAFKA_PORT  ?= 9092
# The tests start their own broker on another port and state directory, so a
# broker from `make kafka-up` or `make demo` can keep running beside them.
TEST_KAFKA_PORT ?= 19092

VARIANT := $(if $(filter 1,$(SANITIZE)),sanitize,release)
BUILD   := build/$(VARIANT)
BIN     := bin

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2
ifeq ($(CI),true)
WARNINGS += -Werror
endif
CFLAGS  ?= -O2 -g
ifeq ($(SANITIZE),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
SANFLAGS :=
endif

# Recursive (=) so that pkg-config only runs when something is compiled:
# `make deps` must work before the -dev packages are there.
PKGS      = rdkafka jansson icu-uc icu-i18n libxml-2.0
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS))
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka)
# libcurl: sinks/ and the producer's feed poller (lib/ has no network code); libmicrohttpd:
# the programs' /metrics and the tests' HTTP servers.
CURL_CFLAGS = $(shell $(PKG_CONFIG) --cflags libcurl)
CURL_LIBS   = $(shell $(PKG_CONFIG) --libs libcurl)
MHD_CFLAGS  = $(shell $(PKG_CONFIG) --cflags libmicrohttpd)
MHD_LIBS    = $(shell $(PKG_CONFIG) --libs libmicrohttpd)
# libsystemd: sd_notify for the daemon (consumer/notify.c) only.
SYSTEMD_CFLAGS = $(shell $(PKG_CONFIG) --cflags libsystemd)
SYSTEMD_LIBS   = $(shell $(PKG_CONFIG) --libs libsystemd)

ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -DNW_DATADIR='"$(PREFIX)/share/newswatch"' -Iinclude $(WARNINGS) $(CFLAGS) $(SANFLAGS) \
             $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)
# The sinks run a worker thread per HTTP sink.
ALL_CFLAGS += -pthread $(CURL_CFLAGS)
ALL_LDFLAGS += -pthread

LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_A     := $(BUILD)/libnewswatch.a
KAFKA_OBJ := $(BUILD)/kafka/nw_kafka.o
SINKS_OBJ := $(BUILD)/sinks/nw_sinks.o
PRODUCER_OBJ := $(BUILD)/producer/options.o $(BUILD)/producer/main.o $(BUILD)/producer/poll.o \
                $(BUILD)/producer/feeds.o
CONSUMER_OBJ := $(BUILD)/consumer/main.o $(BUILD)/consumer/options.o $(BUILD)/consumer/admin.o \
                $(BUILD)/consumer/replay.o $(BUILD)/consumer/daemon.o $(BUILD)/consumer/stage.o \
                $(BUILD)/consumer/restore.o $(BUILD)/consumer/work.o $(BUILD)/consumer/notify.o
PROGRAMS  := $(BIN)/newswatch-producer $(BIN)/newswatch-consumer
VARIANT_STAMP := $(BIN)/.variant-$(VARIANT)
# The daemon's metrics and its HTTP endpoint (/metrics, /healthz, /readyz; libmicrohttpd).
METRICS_OBJ := $(BUILD)/consumer/metrics.o $(BUILD)/consumer/http.o
CONSUMER_OBJ += $(METRICS_OBJ)
$(BUILD)/consumer/http.o: ALL_CFLAGS += $(MHD_CFLAGS)
$(BIN)/newswatch-consumer: PKG_LIBS += $(MHD_LIBS)
# The producer's feed poller: libcurl, and the same metrics endpoint.
PRODUCER_OBJ += $(METRICS_OBJ)
$(BIN)/newswatch-producer: PKG_LIBS += $(MHD_LIBS) $(CURL_LIBS)

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
INTEG_SRC  := $(wildcard tests/integration/test_*.c)
INTEG_BIN  := $(INTEG_SRC:tests/integration/%.c=$(BUILD)/tests/integration/%)
FAULT_SRC  := $(wildcard tests/faults/test_*.c)
FAULT_BIN  := $(FAULT_SRC:tests/faults/%.c=$(BUILD)/tests/faults/%)

# Keep the test programs' objects (pattern-rule intermediates) between builds. Only
# those: a bare .SECONDARY would make every target secondary, and a missing
# bin/.variant-* stamp would then no longer relink the programs.
.SECONDARY: $(UNIT_BIN:%=%.o) $(INTEG_BIN:%=%.o) $(FAULT_BIN:%=%.o)

.PHONY: all deps eval test test-unit test-faults test-build demo kafka-up kafka-down kafka-reset install clean config-reference \
        format format-check help fuzz

all: $(PROGRAMS)

help:
	@echo "make            build bin/newswatch-producer and bin/newswatch-consumer"
	@echo "make test       install what is missing, build, start a local Kafka, run every test"
	@echo "make demo       install what is missing, build, start Kafka, run the pipeline on the seeds"
	@echo "make test-unit  build and run the unit tests only (no Kafka)"
	@echo "make test-faults   the daemon under faults on a real broker (outage, SIGKILL, failover)"
	@echo "make eval       score the alert decisions on the labelled set in tests/eval/ (EVAL_JSON=FILE)"
	@echo "make fuzz       each parser's libFuzzer target (tests/fuzz/) for FUZZ_SECONDS (60) with ASan + UBSan"
	@echo "make deps       install missing Debian packages (apt-get)"
	@echo "make kafka-up / kafka-down   start / stop a local broker on 127.0.0.1:\$$KAFKA_PORT (stop keeps its data)"
	@echo "make kafka-reset   stop the local broker and remove its data (topics, offsets)"
	@echo "KAFKA_VERSION=4.4.0   another Kafka for kafka-up, test, demo (3.9.x or 4.x; default 3.9.1)"
	@echo "make install    programs, data, config (SYSCONFDIR), systemd unit (SYSTEMD_UNIT_DIR) under \$$DESTDIR\$$PREFIX"
	@echo "make format / format-check   apply / check .clang-format"
	@echo "SANITIZE=1      build with AddressSanitizer and UndefinedBehaviorSanitizer"

deps:
	@scripts/deps

# Precision and recall of matches, pages and updates on the labelled set
# (tests/eval/README.md); EVAL_JSON=FILE also writes them as JSON.
eval: $(BIN)/newswatch-consumer
	@scripts/eval -v

# A change of variant (SANITIZE=1 or not) relinks the programs in bin/.
$(VARIANT_STAMP):
	@mkdir -p $(BIN)
	@rm -f $(BIN)/.variant-*
	@touch $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN)/newswatch-producer: $(PRODUCER_OBJ) $(KAFKA_OBJ) $(LIB_A) $(VARIANT_STAMP)
	$(CC) $(ALL_LDFLAGS) -o $@ $(PRODUCER_OBJ) $(KAFKA_OBJ) $(LIB_A) $(PKG_LIBS)

$(BIN)/newswatch-consumer: $(SINKS_OBJ)
$(BIN)/newswatch-consumer: $(CONSUMER_OBJ) $(KAFKA_OBJ) $(LIB_A) $(VARIANT_STAMP)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CONSUMER_OBJ) $(KAFKA_OBJ) $(SINKS_OBJ) $(LIB_A) $(PKG_LIBS) $(CURL_LIBS) \
	    $(SYSTEMD_LIBS)
$(BUILD)/consumer/notify.o: ALL_CFLAGS += $(SYSTEMD_CFLAGS)

# Unit tests: one cmocka program per module. test_producer_options also links
# the producer's option parser and the Kafka clients' configuration (kafka/).
$(BUILD)/tests/unit/test_producer_options: $(BUILD)/tests/unit/test_producer_options.o \
        $(BUILD)/producer/options.o $(KAFKA_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS)

# test_notify runs consumer/notify.c against a fake NOTIFY_SOCKET.
$(BUILD)/tests/unit/test_notify: $(BUILD)/tests/unit/test_notify.o $(BUILD)/consumer/notify.o $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) $(SYSTEMD_LIBS)

# test_metrics: the registry, the text format, librdkafka's statistics, [http].
$(BUILD)/tests/unit/test_metrics: $(BUILD)/tests/unit/test_metrics.o $(METRICS_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) $(MHD_LIBS)

# tests/checks/metrics.sh's server: a populated registry on HTTP for promtool and Prometheus.
METRICS_SERVE := $(BUILD)/tests/checks/metrics_serve
$(METRICS_SERVE): $(BUILD)/tests/checks/metrics_serve.o $(METRICS_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(MHD_LIBS)
test-build: $(METRICS_SERVE)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS)

$(BUILD)/tests/integration/%: $(BUILD)/tests/integration/%.o $(BUILD)/tests/integration/support.o \
        $(KAFKA_OBJ) $(SINKS_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) $(CURL_LIBS)

# The fault tests (`make test-faults`) use the integration tests' support.
$(BUILD)/tests/faults/%: $(BUILD)/tests/faults/%.o $(BUILD)/tests/integration/support.o \
        $(KAFKA_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS)

# test_sinks also runs a webhook receiver (libmicrohttpd) and a real Alertmanager.
$(BUILD)/tests/integration/test_sinks.o: ALL_CFLAGS += $(MHD_CFLAGS)
$(BUILD)/tests/integration/test_sinks: $(BUILD)/tests/integration/test_sinks.o \
        $(BUILD)/tests/integration/support.o $(KAFKA_OBJ) $(SINKS_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) $(CURL_LIBS) $(MHD_LIBS)

# test_feeds serves feeds with libmicrohttpd.
$(BUILD)/tests/integration/test_feeds.o: ALL_CFLAGS += $(MHD_CFLAGS)
$(BUILD)/tests/integration/test_feeds: $(BUILD)/tests/integration/test_feeds.o \
        $(BUILD)/tests/integration/support.o $(KAFKA_OBJ) $(SINKS_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) $(CURL_LIBS) $(MHD_LIBS)

# test_alertmanager: the sinks and the alerter against a real Alertmanager and amtool.
$(BUILD)/tests/integration/test_alertmanager: $(BUILD)/tests/integration/test_alertmanager.o \
        $(BUILD)/tests/integration/support.o $(KAFKA_OBJ) $(SINKS_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) $(CURL_LIBS)

# Test helpers (tests/tools/): nw-state-dump writes the alert stage's state records for
# tests/checks/schemas.sh.
TOOLS_BIN := $(BUILD)/tests/tools/nw-state-dump
$(BUILD)/tests/tools/nw-state-dump: $(BUILD)/tests/tools/nw_state_dump.o $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

test-build: $(PROGRAMS) $(UNIT_BIN) $(INTEG_BIN) $(TOOLS_BIN)

test: deps
	@echo "== building (variant: $(VARIANT))"
	@$(MAKE) --no-print-directory test-build
	@BUILD=$(BUILD) BIN=$(BIN) KAFKA_PORT=$(TEST_KAFKA_PORT) KAFKA_VERSION=$(KAFKA_VERSION) scripts/run-tests

# The daemon under faults on a real broker (tests/faults/): a 70 s broker outage,
# SIGKILL and restart, failover, poison outputs, a broken restore. About 3 minutes;
# CI runs it after `make test`.
test-faults: deps
	@echo "== building (variant: $(VARIANT))"
	@$(MAKE) --no-print-directory $(PROGRAMS) $(FAULT_BIN)
	@BUILD=$(BUILD) BIN=$(BIN) KAFKA_PORT=$(TEST_KAFKA_PORT) KAFKA_VERSION=$(KAFKA_VERSION) \
	    scripts/run-tests --faults-only

test-unit:
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	@BUILD=$(BUILD) scripts/run-tests --unit-only

demo: deps
	@echo "== building"
	@$(MAKE) --no-print-directory all
	@KAFKA_PORT=$(KAFKA_PORT) KAFKA_VERSION=$(KAFKA_VERSION) scripts/demo

kafka-up: all
	@KAFKA_PORT=$(KAFKA_PORT) KAFKA_VERSION=$(KAFKA_VERSION) scripts/kafka up

kafka-down:
	@KAFKA_PORT=$(KAFKA_PORT) scripts/kafka down

# Stops the local broker and removes its data: the next kafka-up starts fresh.
kafka-reset:
	@KAFKA_PORT=$(KAFKA_PORT) scripts/kafka reset

# The programs find their data in ../share/newswatch next to them (lib/pipeline.c),
# so the PREFIX of the build does not matter. The configuration goes to
# $(SYSCONFDIR)/newswatch/ unless one is there already (it is the operator's);
# the systemd unit gets this install's paths.
UNIT_IN := config/newswatch-consumer.service
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/newswatch/config \
	    $(DESTDIR)$(PREFIX)/share/doc/newswatch $(DESTDIR)$(PREFIX)/share/newswatch/schemas \
	    $(DESTDIR)$(SYSCONFDIR)/newswatch $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 config/* $(DESTDIR)$(PREFIX)/share/newswatch/config/
	rm -f $(DESTDIR)$(PREFIX)/share/newswatch/config/$(notdir $(UNIT_IN)) # a template, below
	install -m 0644 $(wildcard schemas/*.schema.json) $(DESTDIR)$(PREFIX)/share/newswatch/schemas/
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/newswatch/
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/newswatch/newswatch.conf ]; then \
	    echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/newswatch/newswatch.conf"; \
	else \
	    echo "install -m 0644 config/newswatch.conf $(DESTDIR)$(SYSCONFDIR)/newswatch/"; \
	    install -m 0644 config/newswatch.conf $(DESTDIR)$(SYSCONFDIR)/newswatch/; \
	fi
	sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    -e 's|@DATADIR@|$(PREFIX)/share/newswatch|g' -e 's|@DOCDIR@|$(PREFIX)/share/doc/newswatch|g' \
	    $(UNIT_IN) \
	    > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/newswatch-consumer.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/newswatch-consumer.service

# docs/configuration.md's reference of every configuration key, from the table
# (include/newswatch/conftable.h); tests/checks/config_reference.sh checks it.
config-reference: $(BIN)/newswatch-consumer
	@$(BIN)/newswatch-consumer --config-reference > $(BUILD)/config-reference.md
	@/usr/bin/python3 -c 'import re,sys; d=open("docs/configuration.md").read(); r=open(sys.argv[1]).read(); \
	  b="<!-- generated: newswatch-consumer --config-reference -->\n"; e="<!-- end of generated -->"; \
	  i=d.index(b)+len(b); j=d.index(e); open("docs/configuration.md","w").write(d[:i]+r+d[j:])' \
	  $(BUILD)/config-reference.md
	@echo "docs/configuration.md: reference written"

clean:
	rm -rf build $(BIN)

FORMAT_FILES = $(wildcard include/newswatch/*.h lib/*.c lib/*.h kafka/*.c kafka/*.h producer/*.c \
               producer/*.h consumer/*.c consumer/*.h tests/unit/*.c tests/unit/*.h tests/integration/*.c \
               tests/integration/*.h tests/faults/*.c tests/tools/*.c tests/checks/*.c bench/*.c)
FORMAT_FILES += $(wildcard sinks/*.c sinks/*.h)

format:
	$(CLANG_FORMAT) -i $(FORMAT_FILES)

format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES)

-include $(shell find build -name '*.d' 2>/dev/null)

# The benchmark (bench/, docs/PERFORMANCE.md); not part of `make test`.
# `make bench`: every figure on BENCH_CORPUS (default samples/seeds, replicated
# to 5 MB); `make bench-quick`: the same in under 3 minutes, JSON to BENCH_JSON;
# `make bench-soak`: 500,000 documents (SOAK_DOCS) through one daemon on its own
# broker, its RSS at 10 %, 20 % ... 100 %, documents/s and whether the RSS
# levelled off (about a minute here; bench/soak.sh lists its SOAK_* variables).
# They run bin/'s programs, or $(BIN)'s: make BUILD=build/x BIN=bin-x bench-quick.
BENCH_BIN  := $(BUILD)/bench/nw-bench
BENCH_OBJ  := $(BUILD)/bench/bench.o $(BUILD)/bench/synth.o
BENCH_JSON ?= bench/out/results.json
FORMAT_FILES += $(wildcard bench/*.h)

.PHONY: bench bench-quick bench-soak bench-build

BENCH_WAIT := $(BUILD)/bench/nw-bench-wait
BENCH_SOAK := $(BUILD)/bench/nw-bench-soak

bench-build: $(BENCH_BIN) $(BENCH_WAIT) $(BENCH_SOAK)

$(BENCH_BIN): $(BENCH_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $(BENCH_OBJ) $(LIB_A) $(PKG_LIBS)

# bench.sh's end-to-end timer: waits for a group's committed offsets.
$(BENCH_WAIT): $(BUILD)/bench/e2e_wait.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# bench/soak.sh's sampler: documents done (committed offsets) and the daemon's RSS.
$(BENCH_SOAK): $(BUILD)/bench/soak_watch.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench: $(BENCH_BIN) $(BENCH_WAIT) $(PROGRAMS)
	@BENCH_BIN=$(BENCH_BIN) BENCH_WAIT=$(BENCH_WAIT) NEWSWATCH_BIN=$(BIN) bench/bench.sh full

bench-quick: $(BENCH_BIN) $(BENCH_WAIT) $(PROGRAMS)
	@BENCH_BIN=$(BENCH_BIN) BENCH_WAIT=$(BENCH_WAIT) NEWSWATCH_BIN=$(BIN) BENCH_JSON=$(BENCH_JSON) \
	    bench/bench.sh quick

bench-soak: $(BENCH_SOAK) $(PROGRAMS)
	@BENCH_SOAK=$(BENCH_SOAK) NEWSWATCH_BIN=$(BIN) bench/soak.sh

# Fuzzing (tests/fuzz/, docs/fuzzing.md): one libFuzzer target per parser, built
# with clang, AddressSanitizer and UndefinedBehaviorSanitizer in $(FUZZ_BUILD).
# `make fuzz` builds them all and runs each for FUZZ_SECONDS on a copy of its
# seed corpus (tests/fuzz/corpus/NAME/ is never written); it fails when one
# finds a crash, a leak, undefined behaviour or a broken invariant, and names
# the input that shows it (in $(FUZZ_BUILD)/run/NAME/, with the log). FUZZ_TARGETS=feed
# runs one. `make fuzz-build` only builds them.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES   := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_LIB_A   := $(FUZZ_BUILD)/libnewswatch.a
FORMAT_FILES += $(wildcard tests/fuzz/*.c tests/fuzz/*.h)

.PHONY: fuzz fuzz-build
# Keep the targets' objects (pattern-rule intermediates) between builds.
.SECONDARY: $(FUZZ_NAMES:%=$(FUZZ_BUILD)/tests/fuzz/fuzz_%.o)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	    -DNW_FUZZ_ROOT='"$(CURDIR)"' -c $< -o $@

$(FUZZ_LIB_A): $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_LIB_A)
	$(FUZZ_CC) $(LDFLAGS) -pthread $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run $(FUZZ_TARGETS)
