#!/usr/bin/env bash
# Check of the JSON Schemas in schemas/ (docs/schemas.md, "JSON Schemas") against real
# output, with an independent validator (Debian's python3-jsonschema, draft 2020-12:
# tests/checks/validate_schemas.py):
#   newswatch.doc/1         newswatch-producer --dry-run (what it would send to news.raw)
#   newswatch.enriched/2,   newswatch-consumer --replay --emit enriched,matches,alerts on
#   newswatch.match/2,      those documents (so ingested_at is read back as the daemon does)
#   newswatch.alert/2       and on the files directly
#   newswatch.alert-state/2 nw-state-dump (tests/tools/nw_state_dump.c): the alert stage's
#                           state record after each match, as written to news.alert-state
# on samples/seeds, the labelled reports of tests/eval/dev, and the first 500 documents of
# ../shared/corpora/ant-news.jsonl when that file exists. Every record of every line must
# be valid. Then broken copies of valid records (a member missing, an unknown member, a
# value outside an enum, an impossible date-time, a bad fingerprint, ...) must each be
# rejected, so the check can fail.
# Uses $BUILD and $BIN as scripts/run-tests does (default build/release, bin); builds
# nw-state-dump when it is missing. Run from anywhere: bash tests/checks/schemas.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
BUILD=${BUILD:-build/release}
BIN=${BIN:-bin}
[[ $BIN == /* ]] || BIN=$REPO/$BIN
PY=/usr/bin/python3
VALIDATE=(env PYTHONWARNINGS=ignore "$PY" "$REPO/tests/checks/validate_schemas.py")
STATE_DUMP=$BUILD/tests/tools/nw-state-dump
CORPUS=${NW_SCHEMA_CORPUS:-$REPO/../shared/corpora/ant-news.jsonl}

fail() {
  echo "schemas.sh: FAILED: $*" >&2
  exit 1
}
step() { printf '\n== %s\n' "$*"; }

"$PY" -c 'import jsonschema' 2>/dev/null ||
  fail "python3-jsonschema is missing for $PY (make deps installs it)"
for p in "$BIN/newswatch-producer" "$BIN/newswatch-consumer"; do
  [ -x "$p" ] || fail "$p is missing: build first (make)"
done
if [ ! -x "$STATE_DUMP" ]; then
  variant=()
  [ -e "$BIN/.variant-sanitize" ] && variant=(SANITIZE=1)
  make -s --no-print-directory BUILD="$BUILD" BIN="$BIN" "${variant[@]}" "$STATE_DUMP" ||
    fail "cannot build $STATE_DUMP"
fi

T=$(mktemp -d -t nw-schemas-check.XXXXXX)
trap 'rm -rf "$T"' EXIT

# One set of inputs: documents (dry run), the chain's records, the state records.
run_set() {
  local name=$1
  shift
  "$BIN/newswatch-producer" --dry-run -q "$@" >"$T/$name.docs.jsonl" ||
    fail "$name: newswatch-producer --dry-run failed"
  "$BIN/newswatch-consumer" -q --replay --emit enriched,matches,alerts - \
    <"$T/$name.docs.jsonl" >"$T/$name.out.jsonl" || fail "$name: --replay of the documents failed"
  { grep -F '"schema":"newswatch.match/2"' "$T/$name.out.jsonl" || true; } | "$STATE_DUMP" \
    >"$T/$name.state.jsonl" || fail "$name: nw-state-dump failed"
}

step "samples/seeds and tests/eval/dev"
run_set fixtures samples/seeds tests/eval/dev
# The files directly too (no ingested_at: the replay's own clock).
"$BIN/newswatch-consumer" -q --replay --emit enriched,matches,alerts samples/seeds \
  >"$T/seeds.direct.jsonl" || fail "--replay samples/seeds failed"
"${VALIDATE[@]}" --expect newswatch.doc/1=160 --expect newswatch.enriched/2=160 \
  --expect newswatch.match/2=20 --expect newswatch.alert/2=10 --expect newswatch.alert-state/2=20 \
  "$T/fixtures.docs.jsonl" "$T/fixtures.out.jsonl" "$T/fixtures.state.jsonl" \
  "$T/seeds.direct.jsonl" || fail "a record breaks its schema (above)"

if [ -f "$CORPUS" ]; then
  step "the first 500 documents of $CORPUS"
  head -n 500 "$CORPUS" >"$T/corpus.jsonl"
  run_set corpus "$T/corpus.jsonl"
  "${VALIDATE[@]}" --expect newswatch.doc/1=500 --expect newswatch.enriched/2=500 \
    "$T/corpus.docs.jsonl" "$T/corpus.out.jsonl" "$T/corpus.state.jsonl" ||
    fail "a record of the corpus breaks its schema (above)"
else
  step "no $CORPUS: the corpus part is skipped"
fi

step "broken records are rejected"
"$PY" - "$T" <<'EOF'
import json, os, sys
t = sys.argv[1]
first = {}
for f in ("fixtures.docs.jsonl", "fixtures.out.jsonl", "fixtures.state.jsonl"):
    for line in open(os.path.join(t, f), encoding="utf-8"):
        r = json.loads(line)
        if r["schema"] == "newswatch.alert/2" and r["status"] != "update":
            continue
        first.setdefault(r["schema"], r)
def drop(k):
    return lambda r: r.pop(k)
def put(path, v):
    def f(r):
        o = r
        for p in path[:-1]:
            o = o[p]
        o[path[-1]] = v
    return f
cases = [
    ("newswatch.doc/1", "no ingested_at", drop("ingested_at")),
    ("newswatch.doc/1", "ingested_at not RFC 3339", put(["ingested_at"], "2026-11-23 23:35:20")),
    ("newswatch.doc/1", "an unknown member", put(["extra"], 1)),
    ("newswatch.doc/1", "a control character in the id", put(["id"], "a\tb")),
    ("newswatch.enriched/2", "lang outside its enum", put(["lang"], "fr")),
    ("newswatch.enriched/2", "no named_events", drop("named_events")),
    ("newswatch.enriched/2", "a sentence with an unknown member", put(["sentences", 0, "x"], 0)),
    ("newswatch.enriched/2", "a negative offset", put(["sentences", 0, "start"], -1)),
    ("newswatch.enriched/2", "entity type outside its enum", put(["entities", 0, "type"], "PLACE")),
    ("newswatch.match/2", "time_basis outside its enum", put(["time_basis"], "guessed")),
    ("newswatch.match/2", "a short fingerprint", put(["fingerprint"], "nwfp1:abc")),
    ("newswatch.match/2", "incident not a day", put(["incident"], "2021-01")),
    ("newswatch.match/2", "claim a string", put(["claim"], "false")),
    ("newswatch.alert/2", "status outside its enum", put(["status"], "resolved")),
    ("newswatch.alert/2", "an impossible detected_at", put(["detected_at"], "2026-13-45T00:00:00.000Z")),
    ("newswatch.alert/2", "an update with sequence 1", put(["sequence"], 1)),
    ("newswatch.alert/2", "casualties as a number", put(["casualties"], 3)),
    ("newswatch.alert-state/2", "an incident with sequence 0", put(["incidents", 0, "sequence"], 0)),
    ("newswatch.alert-state/2", "no fingerprints", drop("fingerprints")),
    ("newswatch.alert-state/2", "first_at as a date string", put(["incidents", 0, "first_at"], "2021-01-21")),
]
with open(os.path.join(t, "cases.txt"), "w") as out:
    for i, (schema, what, mutate) in enumerate(cases):
        if schema not in first:
            sys.exit("no valid %s record to break" % schema)
        r = json.loads(json.dumps(first[schema]))
        mutate(r)
        with open(os.path.join(t, "bad%02d.jsonl" % i), "w", encoding="utf-8") as f:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        out.write("bad%02d.jsonl\t%s: %s\n" % (i, schema, what))
EOF
n=0
while IFS=$'\t' read -r file what; do
  if out=$("${VALIDATE[@]}" "$T/$file" 2>&1); then
    fail "the validator accepted a broken record ($what): $out"
  fi
  printf 'rejected: %-55s %s\n' "$what" "$(grep -m1 "$file:" <<<"$out" | cut -d: -f4- | cut -c1-70)"
  n=$((n + 1))
done <"$T/cases.txt"
[ "$n" -ge 20 ] || fail "only $n broken records were tried"
echo
echo "schemas.sh: all checks passed"
