#!/usr/bin/env bash
# newswatch's benchmark driver (docs/PERFORMANCE.md).
#
#   bench/bench.sh full    `make bench`: every figure, every scaling point
#   bench/bench.sh quick   `make bench-quick`: a corpus slice, three scaling points
#                          (100/10, 10k/1k, 100k/10k) and 2,000 documents end to
#                          end (the latency run as in full) in about a minute;
#                          writes the figures as JSON to $BENCH_JSON
#
# Environment:
#   BENCH_CORPUS    corpus path(s), ':'-separated: text files, directories or
#                   JSON Lines (read with nw_input). Default: samples/seeds,
#                   replicated in memory to 5 MB (bench) or 2 MB (bench-quick).
#                   The documented figures use ../shared/corpora/ant-news.jsonl.
#   BENCH_JSON      where bench-quick writes its JSON (default bench/out/results.json);
#                   `make bench` writes JSON only when BENCH_JSON is set
#   BENCH_QUICK_MB  bench-quick's slice of the corpus in MB (default 2)
#   BENCH_REPS      timed passes per figure (default 5; the fastest is kept)
#   BENCH_BIN       the benchmark program (make passes build/<variant>/bench/nw-bench)
#   BENCH_WAIT      the end-to-end timer (make passes build/<variant>/bench/nw-bench-wait)
#   NEWSWATCH_BIN   where newswatch-producer and newswatch-consumer are (make passes
#                   $(BIN), default bin; when unset, bench.sh runs `make all` first)
#   BENCH_DAEMON_ARGS  more arguments for the daemon in the end-to-end rounds, e.g.
#                   "-X queued.max.messages.kbytes=32768" (default none)
#   BENCH_E2E_WARM_SECONDS  the warm-up round's seconds at 1000 docs/s (default 25)
#   BENCH_SPLIT_STAGES  1: the daemon's two stages in two processes (--stage enrich,
#                   --stage alert) instead of one
#   BENCH_E2E_DUMP  a file for the latency run's times per document (key, raw,
#                   enriched and seen timestamps in ms), for a closer look
#   BENCH_KAFKA_PORT, BENCH_KAFKA_HEAP_MB, BENCH_KAFKA_STATE_DIR
#                   the end-to-end broker: port (39092), heap (2048 MB) and state
#                   directory (build/kafka-bench; reset before and after the run)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-full}
bin=${BENCH_BIN:-build/release/bench/nw-bench}
wait_bin=${BENCH_WAIT:-build/release/bench/nw-bench-wait}
for b in "$bin" "$wait_bin"; do
  [ -x "$b" ] || { echo "bench.sh: $b is missing: run 'make bench-build'" >&2; exit 2; }
done
# The daemon and the producer: make passes its $(BIN) (and builds them first).
read -r -a daemon_args <<<"${BENCH_DAEMON_ARGS:-}"
# Run directly (NEWSWATCH_BIN unset), bench.sh builds bin/ itself.
build_programs=${NEWSWATCH_BIN:-yes}
nwbin=${NEWSWATCH_BIN:-bin}
export NEWSWATCH_BIN=$nwbin # scripts/kafka creates its topics with this consumer

args=()
case $mode in
  full) ;;
  quick)
    args+=(--quick --max-mb "${BENCH_QUICK_MB:-2}" --min-mb "${BENCH_QUICK_MB:-2}")
    BENCH_JSON=${BENCH_JSON:-bench/out/results.json}
    ;;
  *) echo "usage: bench/bench.sh full|quick" >&2; exit 2 ;;
esac
[ -n "${BENCH_REPS:-}" ] && args+=(--reps "$BENCH_REPS")
if [ -n "${BENCH_JSON:-}" ]; then
  mkdir -p "$(dirname "$BENCH_JSON")"
  args+=(--json "$BENCH_JSON")
fi
corpus=()
if [ -n "${BENCH_CORPUS:-}" ]; then
  IFS=: read -r -a corpus <<<"$BENCH_CORPUS"
  for p in "${corpus[@]}"; do
    [ -e "$p" ] || { echo "bench.sh: BENCH_CORPUS: $p does not exist" >&2; exit 2; }
  done
fi

# ---------------------------------------------------------------------------
# End to end on a local broker (scripts/kafka on BENCH_KAFKA_PORT, default
# 39092, its own state directory BENCH_KAFKA_STATE_DIR, a BENCH_KAFKA_HEAP_MB
# heap (default 2048), reset before and after):
#   0. an untimed round of steps 1-4 on other topics, to warm the broker's JIT
#      (step 4 for BENCH_E2E_WARM_SECONDS, default 25);
#   1. a corpus of BENCH_E2E_DOCS documents (2000 quick, 10000 full) from
#      BENCH_CORPUS (JSON Lines or the producer's other input forms) or the
#      seeds, each with its own id, published to a fresh raw topic;
#   2. kcat (a plain librdkafka consumer) reads it from the beginning to the
#      end: documents/s                          -> BENCH_E2E_RAW_DOCS_PER_S
#   3. the daemon (exactly-once, both stages) starts on it; from its partition
#      assignment until its enrich group has committed the end of the raw topic
#      (so every enriched record is committed): documents/s
#                                                -> BENCH_E2E_DOCS_PER_S
#      then the alert stage is let finish the matches of those documents;
#   4. with the daemon running, 1000 documents/s are offered for
#      BENCH_E2E_SECONDS (30, quick and full alike: the p99 of 10 s is its 100
#      worst documents, which one stall of the machine decides); per document,
#      the time from its raw record's timestamp until a read_committed consumer
#      of the enriched topic receives its enriched record
#                                                -> BENCH_E2E_P50_MS, BENCH_E2E_P99_MS
#      and until the enriched record's own timestamp (when the daemon produced
#      it, before the commit)  -> BENCH_E2E_P50_PRODUCED_MS, ..._P99_PRODUCED_MS
# BENCH_E2E=0 skips all of it.
# ---------------------------------------------------------------------------
bench_e2e() {
  unset BENCH_E2E_DOCS_PER_S BENCH_E2E_RAW_DOCS_PER_S BENCH_E2E_P50_MS BENCH_E2E_P99_MS \
    BENCH_E2E_P50_PRODUCED_MS BENCH_E2E_P99_PRODUCED_MS
  if [ "${BENCH_E2E:-1}" = 0 ]; then
    export BENCH_E2E_NOTE="not measured: BENCH_E2E=0"
    return
  fi
  local port=${BENCH_KAFKA_PORT:-39092} dir prefix docs seconds brokers conf t0 t1 n pid
  docs=${BENCH_E2E_DOCS:-$([ "$mode" = quick ] && echo 2000 || echo 10000)}
  seconds=${BENCH_E2E_SECONDS:-30}
  brokers=127.0.0.1:$port
  dir=$(mktemp -d -t nw-bench-e2e.XXXXXX)
  prefix=bench-$$
  # A 2 GB heap: with the default 512 MB the broker spends a third of its CPU
  # in G1 concurrent marking while the daemon writes (docs/PERFORMANCE.md).
  export KAFKA_PORT=$port KAFKA_STATE_DIR=${BENCH_KAFKA_STATE_DIR:-$PWD/build/kafka-bench}
  export KAFKA_HEAP_MB=${BENCH_KAFKA_HEAP_MB:-2048}
  # A fresh broker every run: `scripts/kafka reset` stops it and removes its data
  # (scripts/kafka before `reset` existed removed the data on `down`).
  kafka_reset() { scripts/kafka reset >/dev/null 2>&1 || scripts/kafka down >/dev/null 2>&1 || true; }
  e2e_cleanup() {
    [ -n "${pid:-}" ] && kill -TERM $pid 2>/dev/null && wait $pid 2>/dev/null
    [ -n "${watcher:-}" ] && kill -TERM "$watcher" 2>/dev/null && wait "$watcher" 2>/dev/null
    kafka_reset
    rm -rf "$dir"
  }
  trap e2e_cleanup RETURN
  local watcher=
  if [ "$build_programs" = yes ] && ! make --no-print-directory all >/dev/null; then
    export BENCH_E2E_NOTE="not measured: make all failed"
    return
  fi
  kafka_reset
  if ! scripts/kafka up >/dev/null 2>&1; then
    export BENCH_E2E_NOTE="not measured: the local broker did not start (scripts/kafka up)"
    return
  fi
  # One configuration per topic set: "warm" for the untimed round, "run" for the figures.
  write_conf() { # NAME PREFIX
    cat >"$dir/$1.conf" <<CONF
bootstrap.servers = $brokers
[topics]
raw = $2.raw
enriched = $2.enriched
matches = $2.matches
alerts = $2.alerts
alert-state = $2.alert-state
dlq = $2.dlq
[consumer]
group.enrich = $2-enrich
group.alert = $2-alert
[sinks]
stdout = false
[http]
listen = 127.0.0.1:0
CONF
    "$nwbin"/newswatch-consumer -q -c "$dir/$1.conf" --create-topics --partitions 3
  }
  write_conf warm "$prefix-warm"
  # The daemon on CONF, logging to LOG; $pid is its pid. BENCH_SPLIT_STAGES=1:
  # two processes, `--stage enrich` and `--stage alert` (both logging to LOG),
  # and $pid holds both pids.
  start_daemon() { # CONF LOG
    if [ "${BENCH_SPLIT_STAGES:-0}" = 1 ]; then
      : >"$2"
      "$nwbin"/newswatch-consumer -c "$1" --stage enrich ${daemon_args[@]+"${daemon_args[@]}"} 2>>"$2" &
      pid=$!
      "$nwbin"/newswatch-consumer -c "$1" --stage alert ${daemon_args[@]+"${daemon_args[@]}"} 2>>"$2" &
      pid="$pid $!"
    else
      "$nwbin"/newswatch-consumer -c "$1" ${daemon_args[@]+"${daemon_args[@]}"} 2>"$2" &
      pid=$!
    fi
  }
  # A read_committed consumer of TOPIC from its end: one line per record, its key
  # and when it arrived (ms), into FILE. It runs kcat as its child and stops it
  # on SIGTERM, so that both end by its pid ($watcher; no pkill by name).
  watch_topic() { # TOPIC FILE
    /usr/bin/python3 -u - "$brokers" "$1" >"$2" <<'PY' &
import signal, subprocess, sys, time
kcat = subprocess.Popen(["kcat", "-b", sys.argv[1], "-C", "-t", sys.argv[2], "-o", "end", "-q", "-u",
                         "-X", "isolation.level=read_committed", "-X", "fetch.wait.max.ms=10",
                         "-f", "%k\n"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
def stop(*_):
    kcat.terminate()
    kcat.wait()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
for line in kcat.stdout:
    sys.stdout.write("%s %d\n" % (line.decode().strip(), time.time_ns() // 1000000))
PY
    watcher=$!
  }
  # Offers the corpus's documents at 1000/s for SECONDS to CONF's raw topic, ids lat-000000...
  offer() { # SECONDS CONF
    /usr/bin/python3 - "$1" "$dir/corpus.jsonl" <<'PY' | "$nwbin"/newswatch-producer -q -c "$2" -X linger.ms=0 -
import json, sys, time
seconds, path = int(sys.argv[1]), sys.argv[2]
lines = [json.loads(l) for l in open(path, encoding="utf-8")]
start = time.monotonic()
for i in range(seconds * 1000):
    d = lines[i % len(lines)]
    d["id"] = "lat-%06d" % i
    sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")
    if i % 10 == 9:
        sys.stdout.flush()
        delay = start + (i + 1) / 1000.0 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
sys.stdout.flush()
PY
  }
  write_conf run "$prefix"
  conf=$dir/run.conf
  # 1. the corpus, one id per document
  /usr/bin/python3 - "$docs" "$dir/corpus.jsonl" ${corpus[@]+"${corpus[@]}"} <<'PY'
import json, os, sys
n, out, paths = int(sys.argv[1]), sys.argv[2], sys.argv[3:] or ["samples/seeds"]
bodies = []
for p in paths:
    files = [os.path.join(r, f) for r, _, fs in os.walk(p) for f in sorted(fs)] if os.path.isdir(p) else [p]
    for f in sorted(files):
        if f.endswith(".jsonl"):
            for line in open(f, encoding="utf-8"):
                if line.strip():
                    bodies.append(json.loads(line)["body"])
        else:
            bodies.append(open(f, encoding="utf-8").read())
with open(out, "w", encoding="utf-8") as o:
    for i in range(n):
        o.write(json.dumps({"id": "e2e-%06d" % i, "body": bodies[i % len(bodies)]}, ensure_ascii=False) + "\n")
PY
  # 0. An untimed round of the same work on other topics: the broker is a fresh
  # JVM, and its JIT compiles the fetch, produce and transaction paths during
  # the first tens of thousands of records (a long-running broker has them
  # compiled). Without it the daemon, timed after kcat, pays for most of that.
  # The round ends with BENCH_E2E_WARM_SECONDS (25) of documents offered at
  # 1000/s, as in step 4: there the daemon commits a small transaction every
  # few tens of milliseconds, where the backlog of steps 1-3 took a handful of
  # large ones, and the broker's first seconds of that traffic were slow (the
  # first 1-2 s of the latency run, p50 about 100 ms against 25, in every run).
  # 5 s were not enough: the broker's C2 compiler was still busy in the latency
  # run, whose first 6-8 s then held nearly every document over 100 ms (its
  # commits twice as slow as later); the broker's CPU at this traffic settles
  # after about 20 s (docs/PERFORMANCE.md, "Nagle's algorithm off and a longer
  # warm-up").
  "$nwbin"/newswatch-producer -q -c "$dir/warm.conf" "$dir/corpus.jsonl"
  kcat -b "$brokers" -C -t "$prefix-warm.raw" -o beginning -e -q -f 'x\n' >/dev/null
  start_daemon "$dir/warm.conf" "$dir/warm.log"
  "$wait_bin" "$brokers" "$prefix-warm-enrich" "$prefix-warm.raw" 240 >/dev/null || true
  if [ "${BENCH_E2E_WARM_SECONDS:-25}" -gt 0 ]; then
    watch_topic "$prefix-warm.enriched" /dev/null
    sleep 2
    offer "${BENCH_E2E_WARM_SECONDS:-25}" "$dir/warm.conf"
    "$wait_bin" "$brokers" "$prefix-warm-enrich" "$prefix-warm.raw" 60 >/dev/null || true
    kill -TERM "$watcher" 2>/dev/null
    wait "$watcher" 2>/dev/null
    watcher=
  fi
  kill -TERM $pid 2>/dev/null
  wait $pid 2>/dev/null
  pid=
  "$nwbin"/newswatch-producer -q -c "$conf" "$dir/corpus.jsonl"
  # 2. the raw consume rate
  t0=$(date +%s%N)
  n=$(kcat -b "$brokers" -C -t "$prefix.raw" -o beginning -e -q -f 'x\n' | wc -l)
  t1=$(date +%s%N)
  export BENCH_E2E_RAW_DOCS_PER_S=$(/usr/bin/python3 -c "print(round($n / (($t1 - $t0) / 1e9), 1))")
  # 3. the daemon's rate, from its assignment to the last enriched record
  start_daemon "$conf" "$dir/daemon.log"
  for _ in $(seq 1 200); do grep -q "enrich: assigned" "$dir/daemon.log" && break; sleep 0.05; done
  # Done when the enrich group's committed offsets reach the end of the raw
  # topic: they commit in the same transaction as the enriched records.
  # (nw-bench-wait asks for committed offsets; reading the enriched topic
  # over and over would take CPU from the daemon on a 2-core machine.)
  t0=$(date +%s%N)
  if ! n=$("$wait_bin" "$brokers" "$prefix-enrich" "$prefix.raw" 240); then
    export BENCH_E2E_NOTE="not measured: the daemon enriched $n of $docs documents in 240 s"
    return
  fi
  t1=$(date +%s%N)
  export BENCH_E2E_DOCS_PER_S=$(/usr/bin/python3 -c "print(round($docs / (($t1 - $t0) / 1e9), 1))")
  # The alert stage (on the same thread) may still be deciding on the matches of
  # those documents: the latency run starts once it has committed them all.
  local alert_ms
  alert_ms=$("$wait_bin" "$brokers" "$prefix-alert" "$prefix.matches" 120 txn) || true
  echo "bench.sh: the alert stage committed its last match $alert_ms ms after the enrich stage's last document" >&2
  # 4. latency at 1000 documents/s offered. A read_committed consumer of the
  # enriched topic notes when each record reaches it (what a downstream reader
  # sees: after the daemon's commit); it starts at the topic's end, before the
  # first document is offered.
  watch_topic "$prefix.enriched" "$dir/seen.txt"
  sleep 2
  [ -n "${BENCH_E2E_DUMP:-}" ] && cp "$dir/daemon.log" "$BENCH_E2E_DUMP.before.log"
  offer "$seconds" "$conf"
  # Wait (60 s at most) until every offered document is enriched: a daemon that
  # cannot keep up shows it as latency, not as missing documents.
  "$wait_bin" "$brokers" "$prefix-enrich" "$prefix.raw" 60 >/dev/null || true
  sleep 1 # the watcher's last fetch
  kill -TERM "$watcher" 2>/dev/null
  wait "$watcher" 2>/dev/null
  watcher=
  local lat
  lat=$(/usr/bin/python3 - "$brokers" "$prefix" "$dir/seen.txt" "${BENCH_E2E_DUMP:-}" <<'PY'
import subprocess, sys
brokers, prefix, seen_path, dump = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def read(topic):
    out = subprocess.run(["kcat", "-b", brokers, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                          "-X", "isolation.level=read_committed", "-f", "%k %T\n"],
                         capture_output=True, text=True).stdout
    return {k: int(t) for k, t in (l.split() for l in out.splitlines() if l.startswith("lat-"))}
raw, enriched = read(prefix + ".raw"), read(prefix + ".enriched")
seen = {}
for line in open(seen_path):
    parts = line.split()
    if len(parts) == 2 and parts[0].startswith("lat-"):
        seen.setdefault(parts[0], int(parts[1]))
def pct(lat):
    lat = sorted(lat)
    return lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
visible = [seen[k] - raw[k] for k in raw if k in seen]
produced = [enriched[k] - raw[k] for k in raw if k in enriched]
if dump:  # one line per document, in the order offered: key, raw, enriched and seen times (ms)
    with open(dump, "w") as f:
        for k in sorted(raw):
            f.write("%s %d %s %s\n" % (k, raw[k], enriched.get(k, "-"), seen.get(k, "-")))
if len(visible) < len(raw) * 0.99:
    print("missing %d %d" % (len(visible), len(raw)))
else:
    print("%d %d %d %d" % (pct(visible) + pct(produced)))
PY
)
  [ -n "${BENCH_E2E_DUMP:-}" ] && cp "$dir/daemon.log" "$BENCH_E2E_DUMP.daemon.log"
  if [[ $lat == missing* ]]; then
    export BENCH_E2E_NOTE="latency not measured: only ${lat#missing } enriched records seen 60 s after 1000 docs/s were offered for $seconds s"
  else
    read -r BENCH_E2E_P50_MS BENCH_E2E_P99_MS BENCH_E2E_P50_PRODUCED_MS BENCH_E2E_P99_PRODUCED_MS <<<"$lat"
    export BENCH_E2E_P50_MS BENCH_E2E_P99_MS BENCH_E2E_P50_PRODUCED_MS BENCH_E2E_P99_PRODUCED_MS
    export BENCH_E2E_NOTE="corpus of $docs documents; latency at 1000 docs/s offered for $seconds s"
  fi
}

start=$(date +%s)
bench_e2e
"$bin" "${args[@]}" ${corpus[@]+"${corpus[@]}"}
echo "bench.sh: $mode run took $(($(date +%s) - start)) s"
