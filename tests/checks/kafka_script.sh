#!/usr/bin/env bash
# Check of scripts/kafka's data lifecycle (docs/kafka-local.md) on a real broker:
#   up (fresh), records to news.raw, SIGKILL the broker, up  -> topics and records kept
#   down, up                                                   -> kept
#   up with other ports or another KAFKA_VERSION on that data  -> refused, data kept
#   reset, up                                                  -> a fresh broker, news.raw empty
# Its own broker on 127.0.0.1:$KAFKA_CHECK_PORT (default 29092; controller on the next
# port) in a temporary state directory, both gone at the end, pass or fail.
# KAFKA_VERSION selects the Kafka version as for scripts/kafka (default 3.9.1).
# Takes about 30 s: the start after SIGKILL waits ~10 s for the old broker's session.
# Run from anywhere: bash tests/checks/kafka_script.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

export KAFKA_PORT=${KAFKA_CHECK_PORT:-29092}
unset KAFKA_CONTROLLER_PORT KAFKA_HEAP_MB
KAFKA_STATE_DIR=$(mktemp -d -t nw-kafka-check.XXXXXX)
export KAFKA_STATE_DIR
KAFKA=$PWD/scripts/kafka
BROKERS=127.0.0.1:$KAFKA_PORT
TOPIC=news.raw
T0=$(date +%s%3N)

elapsed() {
  local ms=$(($(date +%s%3N) - T0))
  printf '%d.%d' $((ms / 1000)) $(((ms % 1000) / 100))
}
step() { printf '\n== %s (at %s s)\n' "$*" "$(elapsed)"; }
fail() {
  echo "kafka_script.sh: FAILED: $*" >&2
  exit 1
}

# The broker of our state dir, from its pid file, if it is one.
our_broker_pid() {
  local pid
  pid=$(cat "$KAFKA_STATE_DIR/broker.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF " kafka.Kafka $KAFKA_STATE_DIR/server.properties" || return 1
  echo "$pid"
}

cleanup() {
  local rc=$? pid
  trap - EXIT
  "$KAFKA" reset >/dev/null 2>&1 || true
  if pid=$(our_broker_pid); then # reset failed: stop our broker, and only ours
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$KAFKA_STATE_DIR/broker.log" ]; then
    echo "--- last 30 lines of the broker's log"
    tail -n 30 "$KAFKA_STATE_DIR/broker.log" || true
  fi
  rm -rf "$KAFKA_STATE_DIR"
  echo "kafka_script.sh: $([ "$rc" -eq 0 ] && echo passed || echo failed) in $(elapsed) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs scripts/kafka $1 with its output shown and kept in $OUT; fails the check
# unless it exits 0.
OUT=""
kafka() {
  OUT=$("$KAFKA" "$@" 2>&1) || {
    printf '%s\n' "$OUT"
    fail "scripts/kafka $* exited non-zero"
  }
  printf '%s\n' "$OUT"
}

# The same, for a call that must be refused (non-zero) without touching the data.
kafka_refuses() {
  local env_args=("$@")
  if OUT=$(env "${env_args[@]}" "$KAFKA" up 2>&1); then
    printf '%s\n' "$OUT"
    fail "'${env_args[*]} scripts/kafka up' should have refused"
  fi
  printf '%s\n' "$OUT"
  [ -f "$KAFKA_STATE_DIR/data/meta.properties" ] || fail "the refused 'up' removed the data"
}

# news.raw's records as sorted key=value lines (read_committed: all of them here).
records() {
  local out
  out=$(kcat -b "$BROKERS" -C -t "$TOPIC" -o beginning -e -q -m 10 -f '%k=%s\n' 2>&1) \
    || fail "could not read $TOPIC: $out"
  printf '%s' "$out" | sed '/^$/d' | sort
}

expect_records() { # EXPECTED (sorted lines, may be empty) WHEN
  local got
  got=$(records)
  if [ "$got" != "$1" ]; then
    printf 'expected:\n%s\ngot:\n%s\n' "$1" "$got"
    fail "$TOPIC does not hold the expected records $2"
  fi
  echo "$TOPIC holds $(printf '%s' "$got" | grep -c . || true) records, as expected $2"
}

expect_topics() { # WHEN
  local meta t
  meta=$(kcat -b "$BROKERS" -L -m 10 2>&1) || fail "metadata request failed $1: $meta"
  for t in news.raw news.enriched news.matches news.alerts news.alert-state news.dlq; do
    [[ $meta == *"topic \"$t\" with"* ]] || fail "topic $t is missing $1"
  done
  echo "all six topics exist $1"
}

expect_output() { # PATTERN WHAT
  grep -qF -- "$1" <<<"$OUT" || fail "scripts/kafka did not say '$1' ($2)"
}

command -v kcat >/dev/null || fail "kcat is not installed (make deps)"
if (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null; then
  fail "port $KAFKA_PORT is in use; set KAFKA_CHECK_PORT to a free port (and the next one)"
fi

step "up: a fresh broker in $KAFKA_STATE_DIR on $BROKERS"
kafka up
expect_output "formatting a fresh data dir" "a new state dir is formatted"
expect_topics "after the first up"
expect_records "" "on a fresh broker"
VERSION=$(cat "$KAFKA_STATE_DIR/kafka-version")

step "three records to $TOPIC"
printf 'k1:one\nk2:two\nk3:three\n' | kcat -b "$BROKERS" -P -t "$TOPIC" -K: -X acks=all \
  || fail "kcat could not produce to $TOPIC"
EXPECTED=$(printf 'k1=one\nk2=two\nk3=three\n')
expect_records "$EXPECTED" "after producing"

step "kill -9 the broker"
pid=$(our_broker_pid) || fail "no broker pid in $KAFKA_STATE_DIR/broker.pid"
kill -KILL "$pid"
for _ in $(seq 1 100); do # until it is gone (or a zombie)
  if [ ! -e "/proc/$pid" ] || grep -q '^[^)]*) [ZX]' "/proc/$pid/stat" 2>/dev/null; then break; fi
  sleep 0.1
done
if "$KAFKA" status; then fail "status says running after kill -9"; fi

step "up after the crash: the same data"
kafka up
expect_output "existing data" "up starts on the data it finds"
grep -q "formatting" <<<"$OUT" && fail "up formatted the data of a crashed broker"
expect_topics "after the crash"
expect_records "$EXPECTED" "after kill -9 and up"

step "down: stops, keeps the data"
kafka down
if "$KAFKA" status; then fail "status says running after down"; fi
[ -f "$KAFKA_STATE_DIR/data/meta.properties" ] || fail "down removed the data"

step "up with other ports or another Kafka version on that data: refused"
kafka_refuses KAFKA_PORT=$((KAFKA_PORT + 2))
expect_output "Nothing was changed" "other ports"
case $VERSION in 3.*) other=4.4.0 ;; *) other=3.9.1 ;; esac
kafka_refuses KAFKA_VERSION=$other
expect_output "written by Kafka $VERSION" "another version"

step "up after down: the same data"
kafka up
expect_output "existing data" "up starts on the data it finds"
grep -q "did not stop cleanly" <<<"$OUT" && fail "down did not stop the broker cleanly"
expect_records "$EXPECTED" "after down and up"

step "reset: stops and removes the data"
kafka reset
expect_output "removing $KAFKA_STATE_DIR/data" "reset names what it removes"
[ ! -e "$KAFKA_STATE_DIR/data" ] || fail "reset left $KAFKA_STATE_DIR/data"
if "$KAFKA" status; then fail "status says running after reset"; fi

step "up after reset: a fresh broker"
kafka up
expect_output "formatting a fresh data dir" "a reset state dir is formatted"
expect_topics "after reset and up"
expect_records "" "after reset and up"
