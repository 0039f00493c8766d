#!/usr/bin/env bash
# The configuration table (include/newswatch/conftable.h) against what uses it:
#   1. docs/configuration.md shows the reference `newswatch-consumer --config-reference`
#      prints (between its "generated" markers; `make config-reference` rewrites it);
#   2. config/newswatch.conf names every key (set, or commented out);
#   3. every number's bounds in the table are accepted by the module that reads the
#      key: the lowest and the highest value pass --check-config (consumer keys) or
#      a --dry-run (producer keys), so the table never allows what the daemon refuses.
# Needs the programs in $BIN (default bin). Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin}
consumer=$BIN/newswatch-consumer producer=$BIN/newswatch-producer
tmp=$(mktemp -d -t nw-config-ref.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "config_reference: $*" >&2; exit 1; }

"$consumer" --config-reference >"$tmp/reference.md"
sed -n '/<!-- generated: newswatch-consumer --config-reference -->/,/<!-- end of generated -->/p' \
  docs/configuration.md | sed '1d;$d' >"$tmp/doc.md"
if ! diff -u "$tmp/reference.md" "$tmp/doc.md" >"$tmp/diff"; then
  cat "$tmp/diff" >&2
  fail "docs/configuration.md's reference is not the table's: run 'make config-reference'"
fi

# section key type min max used_by, one line per key
/usr/bin/python3 - "$tmp/reference.md" >"$tmp/keys" <<'PY'
import re, sys
section = None
for line in open(sys.argv[1]):
    m = re.match(r'#### \[(.+)\]', line)
    if m:
        section = m.group(1); continue
    m = re.match(r'\| `([^`]+)` \| ([^|]+) \| [^|]+ \| ([a-z]+) \|', line)
    if m and m.group(1) != '*':
        b = re.match(r'(-?\d+) to (-?\d+)$', m.group(2).strip())
        print(section, m.group(1), 'int' if b else 'other', b.group(1) if b else '-',
              b.group(2) if b else '-', m.group(3))
PY
[ -s "$tmp/keys" ] || fail "no keys in the reference"
n=0
while read -r section key type lo hi used; do
  n=$((n + 1))
  # 2. named in the example configuration, under its section
  /usr/bin/python3 - config/newswatch.conf "$section" "$key" <<'PY' || fail "config/newswatch.conf does not name [$section] $key"
import re, sys
path, section, key = sys.argv[1:]
cur = 'kafka'
for line in open(path, encoding='utf-8'):
    m = re.match(r'\s*\[(.+)\]\s*$', line)
    if m:
        cur = m.group(1); continue
    if cur == section and re.match(r'\s*#?\s*%s\s*=' % re.escape(key), line):
        sys.exit(0)
sys.exit(1)
PY
done <"$tmp/keys"

# 3. per section, every number at its lowest, then at its highest (together, so that
# rules between keys, such as retry.backoff.max.ms >= retry.backoff.ms, hold)
for bound in 4 5; do
  for section in $(awk '$3 == "int" {print $1}' "$tmp/keys" | sort -u); do
    awk -v s="$section" -v f="$bound" 'BEGIN {print "[" s "]"} $1 == s && $3 == "int" {print $2 " = " $f}' \
      "$tmp/keys" >"$tmp/n.conf"
    if awk -v s="$section" '$1 == s && $3 == "int" && $6 == "producer"' "$tmp/keys" | grep -q .; then
      : >"$tmp/empty.jsonl"
      "$producer" -c "$tmp/n.conf" --dry-run "$tmp/empty.jsonl" >/dev/null 2>"$tmp/err" ||
        fail "the table allows this, the producer refuses it: $(cat "$tmp/n.conf"): $(cat "$tmp/err")"
    else
      "$consumer" -q --check-config -c "$tmp/n.conf" >/dev/null 2>"$tmp/err" ||
        fail "the table allows this, --check-config refuses it: $(cat "$tmp/n.conf"): $(cat "$tmp/err")"
    fi
  done
done
echo "config_reference: $n keys: the reference in docs/configuration.md is the table's, config/newswatch.conf names each, the modules take every bound"
