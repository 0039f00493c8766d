#!/usr/bin/env bash
# Check of the daemon's HTTP endpoint (consumer/http.c, consumer/metrics.c;
# docs/metrics.md) and of config/prometheus-rules.yml:
#   $BUILD/tests/checks/metrics_serve (a registry with known values) on
#   127.0.0.1:$METRICS_CHECK_PORT (default 19464):
#     /metrics passes `promtool check metrics`; /readyz 503 with its reason, then
#     200; /healthz 200, then 503 once the heartbeat stops; 404 and 405
#   a real Prometheus (Debian's) on 127.0.0.1:$PROMETHEUS_CHECK_PORT (default
#     19490) scrapes it: up == 1 and newswatch_documents_in_total{stage="enrich"} == 42
#   `promtool test rules tests/checks/prometheus-rules.test.yml`
# Every process it starts is stopped at the end, pass or fail.
# Run from anywhere: BUILD=build/release bash tests/checks/metrics.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build/release}
PORT=${METRICS_CHECK_PORT:-19464}
PROM_PORT=${PROMETHEUS_CHECK_PORT:-19490}
SERVE=$BUILD/tests/checks/metrics_serve
URL=http://127.0.0.1:$PORT
PROM=http://127.0.0.1:$PROM_PORT
TMP=$(mktemp -d -t nw-metrics-check.XXXXXX)
serve_pid=
prom_pid=

fail() {
  echo "metrics.sh: FAILED: $*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  trap - EXIT
  for pid in $serve_pid $prom_pid; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $serve_pid $prom_pid; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ]; then
    for f in serve.log prometheus.log; do
      [ -s "$TMP/$f" ] && { echo "--- last 20 lines of $f"; tail -n 20 "$TMP/$f"; }
    done
  fi
  rm -rf "$TMP"
  echo "metrics.sh: $([ "$rc" -eq 0 ] && echo passed || echo failed)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in promtool prometheus curl python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing (make deps installs it)"
done
if [ ! -x "$SERVE" ]; then
  make --no-print-directory BUILD="$BUILD" "$SERVE" >/dev/null || fail "cannot build $SERVE"
fi

# HTTP status and body of a GET.
status_of() { curl -s -o "$TMP/body" -w '%{http_code}' "$@" || true; }

echo "== the endpoint on $URL"
"$SERVE" "$PORT" 1000 >"$TMP/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 50); do
  grep -q '^listening on' "$TMP/serve.log" && break
  kill -0 "$serve_pid" 2>/dev/null || fail "metrics_serve did not start: $(cat "$TMP/serve.log")"
  sleep 0.1
done
grep -q '^listening on' "$TMP/serve.log" || fail "metrics_serve does not listen"

[ "$(status_of "$URL/metrics")" = 200 ] || fail "/metrics did not answer 200"
curl -s -D "$TMP/headers" -o "$TMP/metrics" "$URL/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/headers" || fail "/metrics has the wrong content type"
promtool check metrics <"$TMP/metrics" || fail "promtool check metrics rejects /metrics"
grep -qx 'newswatch_documents_in_total{stage="enrich"} 42' "$TMP/metrics" || fail "documents_in is not 42"
grep -q '^newswatch_end_to_end_latency_seconds_bucket{stage="enrich",le="+Inf"} 5$' "$TMP/metrics" ||
  fail "the latency histogram has no +Inf bucket of 5"
echo "promtool check metrics: OK ($(grep -vc '^#' "$TMP/metrics") samples)"

[ "$(status_of "$URL/readyz")" = 503 ] || fail "/readyz is not 503 before the stages are assigned"
grep -qx 'enrich: not assigned' "$TMP/body" || fail "/readyz says '$(cat "$TMP/body")'"
kill -USR1 "$serve_pid"
sleep 0.3
[ "$(status_of "$URL/readyz")" = 200 ] || fail "/readyz is not 200 once ready: $(cat "$TMP/body")"
[ "$(status_of "$URL/healthz")" = 200 ] || fail "/healthz is not 200"
grep -q '^newswatch_ready 1$' <(curl -s "$URL/metrics") || fail "newswatch_ready is not 1"
[ "$(status_of "$URL/nothing")" = 404 ] || fail "an unknown path is not 404"
[ "$(status_of -X POST "$URL/metrics")" = 405 ] || fail "POST is not 405"
echo "/readyz, /healthz, 404, 405: OK"

echo "== a real Prometheus on $PROM scrapes it"
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $PWD/config/prometheus-rules.yml
scrape_configs:
  - job_name: newswatch
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$TMP/prometheus.log" 2>&1 &
prom_pid=$!

# The value of an instant query's single sample, or "" when there is none.
query() {
  { curl -s --get --data-urlencode "query=$1" "$PROM/api/v1/query" 2>/dev/null || true; } | python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if len(r) == 1 else "")
except Exception:
    print("")'
}

up=
for _ in $(seq 1 60); do
  kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited"
  up=$(query 'up{job="newswatch"}')
  [ "$up" = 1 ] && break
  sleep 0.5
done
[ "$up" = 1 ] || fail "Prometheus did not scrape the endpoint (up = '$up')"
docs=$(query 'newswatch_documents_in_total{job="newswatch",stage="enrich"}')
[ "$docs" = 42 ] || fail "Prometheus reads documents_in = '$docs', not 42"
lag=$(query 'newswatch_kafka_consumer_lag{topic="news.raw",partition="0"}')
[ "$lag" = 12 ] || fail "Prometheus reads the lag of news.raw [0] = '$lag', not 12"
alerts=$(query 'newswatch_alerts_total{event="baghdad-bombing",status="new"}')
[ "$alerts" = 1 ] || fail "Prometheus reads alerts_total = '$alerts', not 1"
rules=$(curl -s "$PROM/api/v1/rules" | python3 -c '
import json, sys
print(sum(len(g["rules"]) for g in json.load(sys.stdin)["data"]["groups"]))')
[ "$rules" -ge 6 ] || fail "Prometheus loaded $rules rules, not 6"
echo "up == 1, documents_in == 42, lag == 12, alerts == 1, $rules rules loaded: OK"

echo "== /healthz fails once the heartbeat stops"
kill -USR2 "$serve_pid"
sleep 1.5
[ "$(status_of "$URL/healthz")" = 503 ] || fail "/healthz is not 503 with a stale heartbeat"
grep -q 'main loop' "$TMP/body" || fail "/healthz says '$(cat "$TMP/body")'"
echo "/healthz 503: OK"

echo "== promtool test rules"
promtool test rules tests/checks/prometheus-rules.test.yml
