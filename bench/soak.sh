#!/usr/bin/env bash
# newswatch's soak run, `make bench-soak` (docs/PERFORMANCE.md, "Memory"): one
# daemon (both stages, exactly-once, default settings) takes SOAK_DOCS documents
# (500,000) on its own local broker; the run prints the daemon's RSS at 10 %,
# 20 %, ... 100 % of the documents, documents/s, and whether the RSS levelled
# off. Not part of `make test`. About a minute on the 2-core development
# machine (a third of it publishing the documents).
#
#   1. a fresh broker (scripts/kafka on SOAK_KAFKA_PORT, default 39292, its own
#      state directory, reset before and after, a 2 GB heap);
#   2. SOAK_DOCS documents, each with its own id: the JSON Lines of SOAK_CORPUS
#      (default ../shared/corpora/ant-news.jsonl, read in place) over and over,
#      every SOAK_SEED_EVERY-th one (20) a seed of samples/seeds instead, so that
#      the alert stage has matches to decide on (the ANT articles match none of
#      the shipped tracked events);
#   3. with SOAK_RATE=0 (the default) they are published first, and the daemon
#      starts on the backlog: the worst case for its memory (the consumer's
#      prefetch queue fills at once) and the fastest run. SOAK_RATE=N publishes N
#      documents/s while the daemon runs (steady state: 500,000 at 1000/s take
#      8.5 minutes);
#   4. nw-bench-soak (bench/soak_watch.c) samples, every SOAK_INTERVAL_MS (1000),
#      the enrich group's committed offsets (documents done) and the daemon's
#      VmRSS / RssAnon / VmHWM, until every document is enriched and the alert
#      group has committed every match;
#   5. SIGTERM: the daemon must exit 0 having enriched SOAK_DOCS documents.
#
# "Levelled off": the largest RSS sampled in the second half of the documents is
# at most 1.10 times the largest in the first half (a leak grows with the
# documents; the prefetch queue and the allocator's arenas fill early).
#
# Environment:
#   SOAK_DOCS            documents (default 500000)
#   SOAK_CORPUS          a JSON Lines corpus (default ../shared/corpora/ant-news.jsonl;
#                        the seeds alone when it is missing)
#   SOAK_SEED_EVERY      every Nth document is a seed (default 20; 0: none)
#   SOAK_RATE            0: a backlog (default); N: N documents/s while the daemon runs
#   SOAK_INTERVAL_MS     sampling interval (default 1000)
#   SOAK_TIMEOUT_S       give up after this long (default 1800)
#   SOAK_DAEMON_ARGS     more arguments for the daemon, e.g.
#                        "-X queued.max.messages.kbytes=32768"
#   SOAK_DAEMON_ENV      environment for the daemon, e.g. "MALLOC_ARENA_MAX=2"
#   SOAK_OUT             where the samples and the daemon's log are kept
#                        (default bench/out/soak)
#   SOAK_KAFKA_PORT, SOAK_KAFKA_HEAP_MB, SOAK_KAFKA_STATE_DIR
#                        the broker: port (39292), heap (2048 MB), state directory
#                        (build/kafka-soak)
#   NEWSWATCH_BIN        where newswatch-producer and newswatch-consumer are (make
#                        passes $(BIN); default bin)
#   BENCH_SOAK           the sampler (make passes build/<variant>/bench/nw-bench-soak)
set -euo pipefail
cd "$(dirname "$0")/.."

docs=${SOAK_DOCS:-500000}
seed_every=${SOAK_SEED_EVERY:-20}
rate=${SOAK_RATE:-0}
interval=${SOAK_INTERVAL_MS:-1000}
timeout=${SOAK_TIMEOUT_S:-1800}
out=${SOAK_OUT:-bench/out/soak}
nwbin=${NEWSWATCH_BIN:-bin}
soak_bin=${BENCH_SOAK:-build/release/bench/nw-bench-soak}
corpus=${SOAK_CORPUS:-../shared/corpora/ant-news.jsonl}
read -r -a daemon_args <<<"${SOAK_DAEMON_ARGS:-}"
read -r -a daemon_env <<<"${SOAK_DAEMON_ENV:-}"
for b in "$nwbin/newswatch-producer" "$nwbin/newswatch-consumer" "$soak_bin"; do
  [ -x "$b" ] || { echo "soak.sh: $b is missing: run 'make all bench-build'" >&2; exit 2; }
done
[[ $docs =~ ^[0-9]+$ ]] && ((docs > 0)) || { echo "soak.sh: SOAK_DOCS=$docs" >&2; exit 2; }
[[ $rate =~ ^[0-9]+$ ]] || { echo "soak.sh: SOAK_RATE=$rate" >&2; exit 2; }
if [ ! -f "$corpus" ]; then
  [ -z "${SOAK_CORPUS:-}" ] || { echo "soak.sh: SOAK_CORPUS: $corpus does not exist" >&2; exit 2; }
  echo "soak.sh: $corpus is missing: the seeds alone" >&2
  corpus=
fi

port=${SOAK_KAFKA_PORT:-39292}
brokers=127.0.0.1:$port
export KAFKA_PORT=$port KAFKA_STATE_DIR=${SOAK_KAFKA_STATE_DIR:-$PWD/build/kafka-soak}
export KAFKA_HEAP_MB=${SOAK_KAFKA_HEAP_MB:-2048} NEWSWATCH_BIN=$nwbin
mkdir -p "$out"
dir=$(mktemp -d -t nw-soak.XXXXXX)
prefix=soak-$$
pid='' feeder=''
kafka_reset() { scripts/kafka reset >/dev/null 2>&1 || scripts/kafka down >/dev/null 2>&1 || true; }
cleanup() {
  [ -n "$feeder" ] && kill -TERM "$feeder" 2>/dev/null && wait "$feeder" 2>/dev/null
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  kafka_reset
  rm -rf "$dir"
}
trap cleanup EXIT
start=$(date +%s)
say() { printf 'soak: %s\n' "$*"; }

kafka_reset
if ! scripts/kafka up >"$dir/kafka.log" 2>&1; then
  cat "$dir/kafka.log" >&2
  echo "soak.sh: the local broker did not start (scripts/kafka up)" >&2
  exit 1
fi
cat >"$dir/soak.conf" <<CONF
bootstrap.servers = $brokers
[topics]
raw = $prefix.raw
enriched = $prefix.enriched
matches = $prefix.matches
alerts = $prefix.alerts
alert-state = $prefix.alert-state
dlq = $prefix.dlq
[consumer]
group.enrich = $prefix-enrich
group.alert = $prefix-alert
[sinks]
stdout = false
[http]
listen = 127.0.0.1:0
CONF
"$nwbin"/newswatch-consumer -q -c "$dir/soak.conf" --create-topics --partitions 3

# The documents, one JSON line each, on stdout; paced at RATE documents/s unless 0.
feed() { # RATE
  /usr/bin/python3 - "$docs" "$1" "$seed_every" "$corpus" <<'PY'
import json, os, sys, time
n, rate, every, corpus = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def rest(d):  # the object's members after "id", as JSON text without the opening brace
    d.pop("id", None)
    return json.dumps(d, ensure_ascii=False)[1:]
docs = [rest(json.loads(l)) for l in open(corpus, encoding="utf-8") if l.strip()] if corpus else []
seeds = [rest({"body": open(os.path.join("samples/seeds", f), encoding="utf-8").read()})
         for f in sorted(os.listdir("samples/seeds")) if f.endswith(".txt")]
if not docs:
    docs, every = seeds, 0
out, j, t0 = sys.stdout, 0, time.monotonic()
for i in range(n):
    if every and i % every == every - 1:
        rest_ = seeds[(i // every) % len(seeds)]
    else:
        rest_ = docs[j % len(docs)]
        j += 1
    out.write('{"id": "soak-%07d", %s\n' % (i, rest_))
    if rate and i % 10 == 9:
        out.flush()
        delay = t0 + (i + 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
out.flush()
PY
}

what="${corpus:-samples/seeds}"
[ -n "$corpus" ] && ((seed_every > 0)) && what="$what, every ${seed_every}th a seed"
if ((rate == 0)); then
  say "publishing $docs documents ($what) to $prefix.raw on $brokers"
  t0=$(date +%s%N)
  feed 0 | "$nwbin"/newswatch-producer -q -c "$dir/soak.conf" -
  say "published in $(((($(date +%s%N) - t0) / 1000000 + 500) / 1000)) s; starting the daemon on the backlog"
fi

env ${daemon_env[@]+"${daemon_env[@]}"} "$nwbin"/newswatch-consumer -c "$dir/soak.conf" \
  ${daemon_args[@]+"${daemon_args[@]}"} 2>"$out/daemon.log" &
pid=$!
for _ in $(seq 1 600); do grep -q "enrich: assigned" "$out/daemon.log" && break; sleep 0.05; done
grep -q "enrich: assigned" "$out/daemon.log" || {
  cat "$out/daemon.log" >&2
  echo "soak.sh: the daemon's enrich stage got no partitions in 30 s" >&2
  exit 1
}
if ((rate > 0)); then
  say "publishing $docs documents ($what) at $rate/s while the daemon runs"
  feed "$rate" | "$nwbin"/newswatch-producer -q -c "$dir/soak.conf" -X linger.ms=0 - &
  feeder=$!
fi
say "sampling every $interval ms (daemon pid $pid${SOAK_DAEMON_ENV:+, $SOAK_DAEMON_ENV}${SOAK_DAEMON_ARGS:+, $SOAK_DAEMON_ARGS})"
if ! "$soak_bin" "$brokers" "$prefix-enrich" "$prefix.raw" "$docs" "$pid" "$interval" "$timeout" \
    "$prefix-alert" "$prefix.matches" >"$out/samples.txt"; then
  tail -n 5 "$out/daemon.log" >&2
  echo "soak.sh: the run did not complete (samples in $out/samples.txt)" >&2
  exit 1
fi
[ -n "$feeder" ] && wait "$feeder" && feeder=
idle=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
enriched=$(sed -n 's/.*stopping: enrich \([0-9]*\) messages.*/\1/p' "$out/daemon.log")
alerted=$(sed -n 's/.*stopping: .*, alert \([0-9]*\) messages.*/\1/p' "$out/daemon.log")

/usr/bin/python3 - "$out/samples.txt" "$docs" "$idle" "$status" "${enriched:-?}" "${alerted:-?}" <<'PY'
import sys
path, total, idle, status, enriched, alerted = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
samples, marks, done, second = [], [], None, None
for line in open(path):
    f = line.split()
    if f[0] == "sample":
        samples.append((float(f[1]), int(f[2]), float(f[3]), float(f[4]), float(f[5])))
    elif f[0] == "mark":
        marks.append((int(f[1]), float(f[2]), int(f[3]), float(f[4]), float(f[5])))
    elif f[0] == "done":
        done = (float(f[1]), int(f[2]), float(f[3]), float(f[4]))
    elif f[0] == "second":
        second = float(f[1])
print("\n%-6s %10s %9s %9s %10s" % ("docs", "documents", "seconds", "RSS MB", "anon MB"))
print("%-6s %10d %9.1f %9.1f %10.1f   (at the enrich stage's assignment)" %
      ("start", samples[0][1], samples[0][0], samples[0][2], samples[0][3]))
for pct, t, n, rss, anon in marks:
    print("%-6s %10d %9.1f %9.1f %10.1f" % ("%d %%" % pct, n, t, rss, anon))
first = max((s[2] for s in samples if s[1] * 2 <= total), default=0.0)
later = max((s[2] for s in samples if s[1] * 2 > total), default=0.0)
ratio = later / first if first else float("nan")
t, n, rate, hwm = done
hwm = max([hwm] + [s[2] for s in samples])  # the kernel updates VmHWM lazily
print("\ndocuments/s: %.0f (%d documents in %.1f s, from the assignment until the last is enriched)"
      % (rate, n, t))
if second is not None:
    print("alert stage: every match committed %.1f s after the start" % second)
print("RSS: %.1f MB at 10 %%, %.1f MB at 100 %%; largest %.1f MB in the first half, %.1f MB in the "
      "second; peak (VmHWM) %.1f MB; %s MB idle after the run" %
      (marks[0][3], marks[-1][3], first, later, hwm, idle))
verdict = "levelled off" if ratio <= 1.10 else "STILL GROWING"
print("growth, second half against first: %.2f x: %s" % (ratio, verdict))
print("daemon: exit status %s, enriched %s, alert stage %s messages" % (status, enriched, alerted))
ok = status == "0" and enriched == str(total)
if not ok:
    print("soak: FAILED: the daemon must exit 0 having enriched every document")
sys.exit(0 if ok else 1)
PY
say "run took $(($(date +%s) - start)) s; samples and the daemon's log in $out"
