#!/usr/bin/env bash
# Check of `make install` and the systemd unit (README.md "Install", docs/daemon.md
# "Running under systemd"), with the programs as `make` built them (default PREFIX):
#   1. make install PREFIX=/opt/newswatch-check DESTDIR=<tmp>: the installed
#      newswatch-consumer, run outside the clone, finds its data in
#      <tmp>/opt/newswatch-check/share/newswatch (next to itself, not the build's
#      /usr/local): --check-config (with and without -c <sysconfdir config>) and a
#      --replay of a seed work; with that data moved away, they fail.
#   2. the configuration goes to $(SYSCONFDIR)/newswatch/ and a second install
#      keeps an edited one; SYSCONFDIR is /etc for PREFIX=/usr.
#   3. the unit has the install's paths, and `systemd-analyze verify` accepts it
#      (installed with PREFIX=<tmp>/prefix and no DESTDIR, so that the programs it
#      names exist: verify checks them, and its --root= wants a whole OS tree) with
#      no message at all; a copy with an unknown key is reported (the check can fail);
#      `systemd-analyze security --offline` rates its exposure at most 2.0 (an unhardened
#      copy rates 9.6).
# Uses $BUILD and $BIN as scripts/run-tests does (default build/release, bin); nothing
# is rebuilt when `make` is up to date. Run from anywhere: bash tests/checks/install.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
BUILD=${BUILD:-build/release}
BIN=${BIN:-bin}
[[ $BIN == /* ]] || BIN=$REPO/$BIN
# The variant the programs were built as (make SANITIZE=1 test): install must not relink them.
variant=()
[ -e "$BIN/.variant-sanitize" ] && variant=(SANITIZE=1)

T=$(mktemp -d -t nw-install-check.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() {
  echo "install.sh: FAILED: $*" >&2
  exit 1
}
step() { printf '\n== %s\n' "$*"; }
install_to() { make -s --no-print-directory -C "$REPO" BUILD="$BUILD" BIN="$BIN" "${variant[@]}" install "$@"; }

PREFIX=/opt/newswatch-check
ROOT=$T/root
SEED=$REPO/samples/seeds/003_36327a287adc8b89.txt

step "make install PREFIX=$PREFIX DESTDIR=$ROOT"
install_to PREFIX=$PREFIX DESTDIR="$ROOT"
CONSUMER=$ROOT$PREFIX/bin/newswatch-consumer
DATA=$ROOT$PREFIX/share/newswatch
CONF=$ROOT$PREFIX/etc/newswatch/newswatch.conf
UNIT=$ROOT$PREFIX/lib/systemd/system/newswatch-consumer.service
for f in "$CONSUMER" "$ROOT$PREFIX/bin/newswatch-producer" "$DATA/config/gazetteer.txt" \
  "$DATA/config/furniture.conf" "$DATA/config/events.conf" "$CONF" "$UNIT" \
  "$ROOT$PREFIX/share/doc/newswatch/daemon.md"; do
  [ -f "$f" ] || fail "make install did not install $f"
done
[ -x "$CONSUMER" ] || fail "$CONSUMER is not executable"
ls "$DATA"/schemas/*.schema.json >/dev/null 2>&1 || fail "no JSON Schemas in $DATA/schemas"
[ ! -e "$DATA/config/newswatch-consumer.service" ] || fail "the unit template went to $DATA/config"

# Outside the clone: no ./config/ to fall back on.
cd "$T"
step "installed --check-config (no -c, then -c $CONF)"
out=$("$CONSUMER" --check-config) || fail "--check-config exited $?: $out"
echo "$out"
grep -qx "$DATA/config/gazetteer.txt: 903 entities" <<<"$out" ||
  fail "--check-config did not read the installed gazetteer in $DATA/config"
grep -qx "configuration OK" <<<"$out" || fail "--check-config did not say configuration OK"
out=$("$CONSUMER" -c "$CONF" --check-config) || fail "--check-config -c $CONF exited $?: $out"
grep -qx "configuration OK" <<<"$out" || fail "--check-config -c $CONF: $out"

step "installed --replay --emit enriched,matches,alerts $(basename "$SEED")"
"$CONSUMER" -q --replay --emit enriched,matches,alerts "$SEED" >"$T/replay.jsonl" ||
  fail "--replay exited $?"
head -c 300 "$T/replay.jsonl"
echo
grep -q '^{"schema":"newswatch.enriched/2","id":"003_36327a287adc8b89"' "$T/replay.jsonl" ||
  fail "--replay wrote no enriched record of the seed"
grep -q '^{"schema":"newswatch.match/2","event":"baghdad-bombing"' "$T/replay.jsonl" ||
  fail "--replay wrote no match of the seed"
grep -q '^{"schema":"newswatch.alert/2"' "$T/replay.jsonl" || fail "--replay wrote no alert"

step "without its data directory the installed program fails (so it used that one)"
mv "$DATA" "$DATA.away"
if out=$("$CONSUMER" --check-config 2>&1); then fail "--check-config passed without $DATA: $out"; fi
echo "$out"
grep -q "$DATA/config/gazetteer.txt" <<<"$out" || fail "the error does not name $DATA/config"
# NEWSWATCH_DATADIR overrides where the data is.
out=$(NEWSWATCH_DATADIR=$DATA.away "$CONSUMER" --check-config) ||
  fail "NEWSWATCH_DATADIR=$DATA.away --check-config failed: $out"
grep -qx "$DATA.away/config/gazetteer.txt: 903 entities" <<<"$out" ||
  fail "NEWSWATCH_DATADIR was not used: $out"
mv "$DATA.away" "$DATA"

step "a second install keeps an edited $CONF"
echo "# edited by the operator" >>"$CONF"
install_to PREFIX=$PREFIX DESTDIR="$ROOT" | grep -q "keeping $CONF" || fail "no 'keeping' message"
tail -n1 "$CONF" | grep -qx "# edited by the operator" || fail "the second install replaced $CONF"
make -s -n --no-print-directory -C "$REPO" BUILD="$BUILD" BIN="$BIN" "${variant[@]}" install \
  PREFIX=/usr DESTDIR="$T/usr-root" | grep -q "$T/usr-root/etc/newswatch" ||
  fail "PREFIX=/usr does not put the configuration in /etc/newswatch"

step "the installed unit"
grep -n '^\(Type\|ExecStart\|ExecReload\|EnvironmentFile\|WatchdogSec\|TimeoutStopSec\|DynamicUser\)=' "$UNIT"
! grep -n '@[A-Z]*@' "$UNIT" || fail "$UNIT: a @VARIABLE@ was not replaced"
grep -qx "Type=notify" "$UNIT" || fail "$UNIT: not Type=notify"
grep -qx "ExecStart=$PREFIX/bin/newswatch-consumer -c $PREFIX/etc/newswatch/newswatch.conf \$NEWSWATCH_OPTS" "$UNIT" ||
  fail "$UNIT: ExecStart does not name the installed program and configuration"
grep -qx "EnvironmentFile=-$PREFIX/etc/default/newswatch" "$UNIT" || fail "$UNIT: EnvironmentFile"
# TimeoutStopSec must outlast the daemon's own bound on a stop (shutdown.timeout.ms).
bound_ms=$(sed -n 's/^shutdown\.timeout\.ms *= *\([0-9]*\)$/\1/p' "$REPO/config/newswatch.conf")
stop_s=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$UNIT")
[ -n "$bound_ms" ] && [ -n "$stop_s" ] && [ $((stop_s * 1000)) -gt "$bound_ms" ] ||
  fail "TimeoutStopSec=${stop_s:-?}s does not outlast shutdown.timeout.ms = ${bound_ms:-?}"
for d in DynamicUser=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
  CapabilityBoundingSet= "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
  SystemCallFilter=@system-service MemoryDenyWriteExecute=yes LockPersonality=yes \
  Restart=on-failure; do
  grep -qx "$d" "$UNIT" || fail "$UNIT: no '$d'"
done

command -v systemd-analyze >/dev/null 2>&1 ||
  fail "systemd-analyze is missing: install Debian's systemd package (make deps)"
step "systemd-analyze verify (install with PREFIX=$T/prefix, no DESTDIR)"
install_to PREFIX="$T/prefix" >/dev/null
REAL_UNIT=$T/prefix/lib/systemd/system/newswatch-consumer.service
out=$(systemd-analyze verify "$REAL_UNIT" 2>&1) || fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify has something to say: $out"
echo "systemd-analyze verify $REAL_UNIT: accepted, no message"
# The same check catches a mistake: a copy with an unknown key, a missing program.
mkdir -p "$T/bad"
sed 's/^ProtectHome=yes$/&\nProtectHomee=yes/' "$REAL_UNIT" >"$T/bad/newswatch-consumer.service"
out=$(systemd-analyze verify "$T/bad/newswatch-consumer.service" 2>&1) || true
grep -q "Unknown key 'ProtectHomee'" <<<"$out" || fail "verify did not report an unknown key: $out"
sed "s|^ExecStart=$T/prefix/bin/|ExecStart=$T/nowhere/|" "$REAL_UNIT" >"$T/bad/newswatch-consumer.service"
if out=$(systemd-analyze verify "$T/bad/newswatch-consumer.service" 2>&1); then
  fail "verify accepted a unit whose program is missing"
fi
echo "negative cases reported: unknown key, missing program"

step "systemd-analyze security --offline (exposure at most 2.0 of 10)"
systemd-analyze security --offline=yes --threshold=20 "$REAL_UNIT" | tail -n1 ||
  fail "the unit's exposure is over 2.0: see systemd-analyze security --offline=yes $REAL_UNIT"
echo
echo "install.sh: all checks passed"
