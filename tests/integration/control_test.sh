#!/bin/bash
# teishid and teishictl against a real redis-server (tests/lib/redis_fixture.sh).
# usage: control_test.sh CASE TEISHID TEISHICTL
# Each case gets its own Redis (AOF, appendfsync always, ACL user) and its own
# teishid.  Second principals (uid 4001 supervisor, 4002 viewer) run through
# setpriv, so the four-eyes and wrong-role checks need root; without root
# they are skipped (and said so).
set -u
CASE=$1
TEISHID=$(realpath "$2")
TEISHICTL=$(realpath "$3")
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib/redis_fixture.sh"

FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
# expect RC DESCRIPTION -- CMD...: run CMD, compare its exit status.
expect() {
	local want=$1 what=$2
	shift 3
	OUT=$("$@" 2>&1)
	local rc=$?
	if [ "$rc" = "$want" ]; then ok "$what"; else fail "$what: exit $rc, wanted $want; output: $OUT"; fi
}
contains() { # contains DESCRIPTION NEEDLE (in $OUT)
	if grep -qF -- "$2" <<<"$OUT"; then ok "$1"; else fail "$1: \"$2\" not in: $OUT"; fi
}
equals() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got \"$2\", wanted \"$3\""; fi; }

W=$(mktemp -d "${TMPDIR:-/tmp}/teishi-ctl-XXXXXX")
chmod 711 "$W"
ROOT=$( [ "$(id -u)" = 0 ] && echo 1 || echo 0)
DPID=""
cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	redis_fixture_stop
	rm -rf "$W"
}

rstart() { redis_fixture_start --user teishid --password "pw-$$" >/dev/null || exit 1; trap cleanup EXIT; }
rstart
echo "pw-$$" >"$W/redis.pw"
cat >"$W/roles" <<R
# the test runner: every role, given explicitly
user $(id -u) viewer,operator,supervisor,auditor
user 4001 supervisor,viewer
user 4002 viewer
R
"$TEISHID" --keygen "$W/own" || exit 1
"$TEISHID" --keygen "$W/jusa" || exit 1
"$TEISHID" --keygen "$W/rogue" || exit 1

start_teishid() { # extra args...
	rm -f "$W/sock"
	"$TEISHID" --redis "$REDIS_ADDR" --redis-user teishid --redis-password-file "$W/redis.pw" \
		--socket "$W/sock" --roles "$W/roles" --feed-key "$W/own.key" --feed-origin carrierA \
		--peer "jusa=$W/jusa.pub" "$@" >>"$W/teishid.log" 2>&1 &
	DPID=$!
	for _ in $(seq 200); do [ -S "$W/sock" ] && return 0; sleep 0.02; done
	fail "teishid did not start: $(cat "$W/teishid.log")"
	exit 1
}
stop_teishid() { kill "${1:--TERM}" "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=""; }
C() { "$TEISHICTL" -s "$W/sock" "$@"; }
as_uid() { local u=$1; shift; setpriv --reuid="$u" --regid=0 --clear-groups "$TEISHICTL" -s "$W/sock" "$@"; }
rcli() { redis_fixture_cli "$@"; }

case_commands() {
	start_teishid
	expect 0 "status" -- C status
	contains "status names the caller" "you are"
	expect 0 "contractor add" -- C contractor add acme --name "ACME 株式会社"
	expect 0 "contractor add again: already" -- C contractor add acme --name "ACME 株式会社"
	contains "same contractor twice says so" "already registered"
	C contractor add resellA >/dev/null && C contractor add resellB >/dev/null
	expect 0 "assign numbers through a chain" -- C assign --contractor acme --number 03-1234-5678 050-1111-2222 --via resellA,resellB
	expect 0 "assign a range" -- C assign --contractor acme --range 0312340000..0312340999
	contains "range counted" "1000 numbers"
	expect 0 "assign a block" -- C assign --contractor acme --prefix '06-6123-*'
	contains "block counted" "10000 numbers"
	expect 0 "contractor show" -- C contractor show acme
	contains "contractor show lists holdings" "holdings  4"
	expect 0 "contractor list" -- C contractor list
	contains "list has the UTF-8 name" "ACME 株式会社"
	expect 0 "suspend" -- C suspend --order T-1 --authority tokyo --number 03-1234-5678 03-9999-8888 --received 2024-03-01
	contains "unheld number warned" "not held by this carrier"
	equals "entries set holds both" "$(rcli SISMEMBER teishi:entries 81399998888)" 1
	equals "stream has the add" "$(rcli XLEN teishi:changes)" 1
	expect 0 "same order again" -- C suspend --order T-1 --authority tokyo --number 0312345678 0399998888 --received 2024-03-01
	contains "same order: already applied" "already applied"
	equals "nothing published twice" "$(rcli XLEN teishi:changes)" 1
	expect 0 "lookup suspended" -- C lookup +81-3-1234-5678
	contains "lookup names entry, order and chain" "suspended by entry 81312345678 (order T-1, since 2024-03-01); held by acme (carrier > resellA > resellB > acme"
	expect 0 "lookup in a block" -- C --json lookup 0661231234
	contains "json lookup: not suspended" '"suspended":false'
	expect 0 "report npa" -- C report npa --since 2024-01-01
	contains "npa report row" "0312345678  +81312345678  number  T-1    tokyo      2024-03-01  acme        carrier > resellA > resellB > acme"
	C report npa --csv >"$W/npa.csv"
	equals "CSV starts with a UTF-8 BOM" "$(head -c 3 "$W/npa.csv" | od -An -tx1 | tr -d ' ')" efbbbf
	equals "CSV uses CRLF" "$(head -1 "$W/npa.csv" | tail -c 2 | od -An -tx1 | tr -d ' ')" 0d0a
	expect 0 "report contractors --min 1" -- C report contractors --min 1
	contains "reseller counted through the chain" "resellA     0       1              1"
	expect 0 "report contractors --min 2: nobody" -- C report contractors --min 2
	contains "min filters" "0 contractors"
	expect 0 "refuse" -- C refuse --order N-1 --contractor acme --until 2099-12-31 --received 2024-05-01
	expect 1 "provision-check refused" -- C provision-check --contractor acme
	contains "refusal names order and expiry" "order N-1 refuses new numbers to acme until 2099-12-31"
	expect 0 "provision-check after expiry" -- C provision-check --contractor acme --on 2100-01-01
	expect 0 "provision-check other contractor" -- C provision-check --contractor resellA
	expect 0 "bulk-suspend pending" -- C bulk-suspend --order B-1 --contractor acme --received 2024-06-01
	equals "pending bulk changes no entry" "$(rcli SCARD teishi:entries)" 2
	expect 1 "approve by the same supervisor refused" -- C approve B-1
	contains "four eyes named" "four eyes"
	if [ "$ROOT" = 1 ]; then
		expect 0 "approve by a second supervisor" -- as_uid 4001 approve B-1
		contains "bulk counts numbers" "11002 numbers of acme suspended"
		equals "bulk entries in the set" "$(rcli SCARD teishi:entries)" 5
		expect 0 "approve again: already" -- as_uid 4001 approve B-1
	else
		echo "skip: second supervisor needs root (setpriv)"
	fi
	expect 0 "list blocks" -- C list --kind block
	# The entry set as a static list file, with the stream id it reflects.
	C list --format listfile >"$W/list.txt" 2>"$W/list.err"
	equals "listfile: exit 0" "$?" 0
	local sid
	sid=$(rcli --raw XREVRANGE teishi:changes + - COUNT 1 | head -1)
	if grep -qx "# reflects change stream teishi:changes up to id $sid" "$W/list.txt"; then ok "listfile names the stream id"
	else fail "listfile header lacks stream id $sid: $(head -3 "$W/list.txt")"; fi
	equals "listfile: every entry, +E.164" "$(grep -v '^#' "$W/list.txt" | tr '\n' ' ')" \
		"$(rcli --raw SORT teishi:entries ALPHA | sed 's/^/+/' | tr '\n' ' ')"
	if [ "$ROOT" = 1 ]; then
		if grep -qx '+8166123\*' "$W/list.txt"; then ok "listfile: block as +prefix*"; else fail "no block line in: $(cat "$W/list.txt")"; fi
	fi
	equals "listfile: block filter" "$(C list --format listfile --kind number 2>/dev/null | grep -v '^#' | grep -c '\*')" 0
	OUT=$(C --json list --format listfile)
	contains "listfile in JSON" '"listfile":"# teishi suspension list'
	expect 0 "lift" -- C lift --order L-1 --number 0399998888 --reason "wrong number" --received 2024-07-01
	equals "lift removed the entry" "$(rcli SISMEMBER teishi:entries 81399998888)" 0
	equals "stream has the del" "$(rcli --raw XREVRANGE teishi:changes + - COUNT 1 | sed -n 3p)" del
	# report npa: one row per suspended entry, bulk ones included, lifts
	# on the row of the suspension they lifted.
	C report npa --csv >"$W/npa.csv"
	cat "$W/npa.csv"
	equals "CSV header" "$(sed -n 1p "$W/npa.csv" | tr -d '\r' | sed 's/^\xEF\xBB\xBF//')" \
		"number,e164,kind,order,authority,received,contractor,chain,lift_order,lifted,lift_reason"
	OUT=$(tr -d '\r' <"$W/npa.csv")
	contains "CSV: police suspension with chain" "0312345678,+81312345678,number,T-1,tokyo,2024-03-01,acme,carrier > resellA > resellB > acme,,,"
	contains "CSV: lifted suspension names its lift" "0399998888,+81399998888,number,T-1,tokyo,2024-03-01,(not held),,L-1,2024-07-01,wrong number"
	if [ "$ROOT" = 1 ]; then
		contains "CSV: bulk block row says block" "066123*,+8166123*,block,B-1,npa,2024-06-01,acme,carrier > acme,,,"
		contains "CSV: bulk range block" "0312340*,+81312340*,block,B-1,npa,2024-06-01,acme,carrier > acme,,,"
		contains "CSV: bulk number row with its chain" "05011112222,+815011112222,number,B-1,npa,2024-06-01,acme,carrier > resellA > resellB > acme,,,"
		equals "CSV: 2 police + 4 bulk rows" "$(grep -c ',B-1,\|,T-1,' <<<"$OUT")" 6
		OUT=$(C --json report npa)
		contains "JSON: bulk entry object" '{"entry":"8166123*","number":"066123*","kind":"block","order":"B-1","authority":"npa","received":"2024-06-01","contractor":"acme","chain":"carrier > acme","via":[],"lift":null}'
	fi
	OUT=$(C --json report npa)
	contains "JSON: lift object" '"lift":{"order":"L-1","received":"2024-07-01","reason":"wrong number"}'
	contains "JSON: chain as a list" '"via":["resellA","resellB"]'
	OUT=$(C report npa --since 2024-06-02)
	contains "--since drops earlier orders" "0 suspensions"
	expect 0 "release" -- C release --number 050-1111-2222
	expect 0 "report stats" -- C report stats --year 2024
	contains "stats fixed" "fixed-line numbers suspended                  2"
	expect 0 "audit verify" -- C audit verify
	expect 0 "audit show filtered" -- C audit show --cmd suspend
	contains "audit shows the suspend" "order T-1 (tokyo"
	# --since is a Japan-time day (UTC+9), not a UTC one.
	jst_today=$(date -u -d '+9 hours' +%F)
	jst_tomorrow=$(date -u -d '+33 hours' +%F)
	OUT=$(C audit show --cmd suspend --since "$jst_today")
	contains "audit --since today (Japan time) keeps today's records" "order T-1 (tokyo"
	OUT=$(C audit show --since "$jst_tomorrow")
	contains "audit --since tomorrow (Japan time) shows none" "0 audit records"
	# Batch: stops at the first error and names its line.
	printf 'contractor add b1\n# comment\n\nsuspend --order BT-1 --authority "osaka" --number 06-1111-2222\nsuspend --order BT-2 --authority osaka --number 123\ncontractor add never\n' >"$W/batch"
	expect 1 "batch stops at the bad line" -- C -f "$W/batch"
	contains "batch names the line" "batch:5"
	equals "lines after the error not run" "$(rcli SISMEMBER teishi:contractors never)" 0
	equals "lines before the error applied" "$(rcli SISMEMBER teishi:entries 81611112222)" 1
	expect 0 "man page" -- "$TEISHICTL" --man
	contains "man page has provision-check" 'provision\-check'
	expect 0 "command help" -- C suspend --help
	contains "help lists options" "--authority A"
	expect 2 "usage error exits 2" -- C suspend --order X
}

case_refusals() {
	start_teishid
	C contractor add acme >/dev/null
	C suspend --order R-1 --authority tokyo --number 0312345678 --received 2024-01-05 >/dev/null
	local before
	before=$(rcli XLEN teishi:changes)
	expect 1 "bad number" -- C suspend --order R-2 --authority tokyo --number 03-1234-567
	contains "bad number named" '"03-1234-567": fixed-line number needs 10 digits, got 9'
	expect 1 "emergency number" -- C suspend --order R-2 --authority tokyo --number 119
	contains "emergency named" "emergency"
	expect 1 "bad date" -- C suspend --order R-2 --authority tokyo --number 0312345679 --received 2024-02-30
	contains "bad date named" '"2024-02-30": no such calendar day'
	expect 1 "future date" -- C suspend --order R-2 --authority tokyo --number 0312345679 --received 2999-01-01
	expect 1 "unknown authority" -- C suspend --order R-2 --authority edo --number 0312345679
	contains "valid authorities listed" "hokkaido, aomori"
	contains "okinawa listed" "okinawa"
	expect 1 "unknown contractor" -- C assign --contractor ghost --number 0312345679
	contains "unknown contractor named" 'unknown contractor "ghost"'
	expect 1 "unknown reseller" -- C assign --contractor acme --number 0312345679 --via ghost
	expect 1 "refuse unknown contractor" -- C refuse --order N-9 --contractor ghost --until 2030-01-01
	expect 1 "duplicate order, other content" -- C suspend --order R-1 --authority tokyo --number 0312345679 --received 2024-01-05
	contains "duplicate refused" "already exists (a suspend order) with different content"
	expect 1 "lift of a number not suspended" -- C lift --order L-9 --number 0311112222 --reason x
	expect 1 "approve unknown order" -- C approve NOPE
	expect 1 "import from unknown peer" -- C import "$W/roles" --peer nobody
	contains "configured peers listed" "configured peers: jusa"
	equals "refusals published nothing" "$(rcli XLEN teishi:changes)" "$before"
	if [ "$ROOT" = 1 ]; then
		expect 1 "viewer cannot suspend" -- as_uid 4002 suspend --order V-1 --authority tokyo --number 0312345670
		contains "denial names the role" "suspend needs role operator"
		expect 0 "viewer can look up" -- as_uid 4002 lookup 0312345678
		expect 1 "uid without any role" -- as_uid 4009 status
		contains "no role" "has -"
		expect 1 "viewer cannot read the audit" -- as_uid 4002 audit show
		C audit show --result denied >"$W/denied"
		if grep -q "suspend needs role operator" "$W/denied"; then ok "denial audited"; else fail "denial not audited: $(cat "$W/denied")"; fi
	else
		echo "skip: wrong-role checks need root (setpriv)"
	fi
	C audit show --result refused >"$W/refused"
	if grep -q "different content" "$W/refused"; then ok "refusal audited"; else fail "refusal not audited"; fi
	expect 0 "chain intact after refusals" -- C audit verify
	# A Redis without durable AOF is refused at start.
	stop_teishid
	rcli CONFIG SET appendfsync everysec >/dev/null
	rm -f "$W/sock"
	expect 1 "teishid refuses a volatile Redis" -- "$TEISHID" --redis "$REDIS_ADDR" --redis-user teishid \
		--redis-password-file "$W/redis.pw" --socket "$W/sock" --roles "$W/roles"
	contains "durability named" "appendfsync everysec"
	rcli CONFIG SET appendfsync always >/dev/null
}

case_restart() {
	start_teishid
	C contractor add acme >/dev/null
	C assign --contractor acme --range 0312340000..0312340099 >/dev/null
	expect 0 "step 1 suspend" -- C suspend --order S-1 --authority chiba --number 0312340001 --received 2024-02-01
	stop_teishid -9
	redis_fixture_kill -9
	redis_fixture_restart || { fail "redis restart"; return; }
	start_teishid
	expect 0 "after both restarts: lookup" -- C lookup 0312340001
	contains "suspension survived" "order S-1"
	expect 0 "step 2 suspend" -- C suspend --order S-2 --authority chiba --number 0312340002 --received 2024-02-02
	# Redis dies under a running teishid: the next request reconnects.
	redis_fixture_kill -9
	expect 1 "while Redis is down: unavailable" -- C suspend --order S-3 --authority chiba --number 0312340003
	contains "says unavailable" "unavailable"
	redis_fixture_restart || { fail "redis restart"; return; }
	expect 0 "teishid reconnects" -- C suspend --order S-3 --authority chiba --number 0312340003 --received 2024-02-03
	stop_teishid
	redis_fixture_kill
	redis_fixture_restart
	start_teishid
	for o in S-1 S-2 S-3; do
		equals "order $o kept" "$(rcli HGET teishi:order:$o state)" applied
	done
	equals "entries kept" "$(rcli SCARD teishi:entries)" 3
	equals "stream kept" "$(rcli XLEN teishi:changes)" 3
	expect 0 "audit chain continues across restarts" -- C audit verify
	contains "all records" "intact"
	expect 0 "repeat after restart: already" -- C suspend --order S-2 --authority chiba --number 0312340002 --received 2024-02-02
	contains "idempotent after restart" "already applied"
}

case_kill9_bulk() {
	[ "$ROOT" = 1 ] || { echo "skip: needs a second supervisor (root for setpriv)"; exit 77; }
	start_teishid
	C contractor add fwd >/dev/null
	# 200,000 single numbers: big enough that approval takes a while.
	awk 'BEGIN { for (l = 0; l < 200; l++) { printf "assign --contractor fwd --number"; for (i = 0; i < 1000; i++) printf " 050%08d", 10000000 + l * 1000 + i; printf "\n" } }' >"$W/assign"
	expect 0 "assign 200k numbers by batch" -- C -f "$W/assign"
	local k ref n state delay seen_pending=0 seen_applied=0
	# Approval is fast now (about 0.5 s here): kill at 40 ms steps so some
	# kills land while the MULTI is being sent or executed.
	for k in $(seq 1 40); do
		ref=BK-$k
		delay=$(printf '%d.%02d' $((k * 4 / 100)) $((k * 4 % 100)))
		C bulk-suspend --order $ref --contractor fwd >/dev/null
		as_uid 4001 approve $ref >/dev/null 2>&1 &
		local apid=$!
		sleep "$delay"
		stop_teishid -9
		wait $apid 2>/dev/null
		start_teishid
		n=$(rcli HLEN teishi:entry)
		state=$(rcli HGET teishi:order:$ref state)
		if { [ "$state" = applied ] && [ "$n" = 200000 ]; } || { [ "$state" = pending ] && [ "$n" = 0 ]; }; then
			ok "kill -9 after $delay s: $ref is $state with $n entries (all or nothing)"
		else
			fail "kill -9 after $delay s: $ref is $state with $n entries"
		fi
		equals "set and meta agree" "$(rcli SCARD teishi:entries)" "$n"
		[ "$state" = pending ] && seen_pending=1
		if [ "$state" = applied ]; then
			seen_applied=1
			equals "stream carries all 200000 adds" "$(rcli --raw XRANGE teishi:changes - + | grep -c '^05\|^815' )" 200
			break
		fi
	done
	echo "outcomes seen: pending=$seen_pending applied=$seen_applied"
	expect 0 "audit chain intact after kills" -- C audit verify
}

case_audit_tamper() {
	start_teishid
	C contractor add acme >/dev/null
	C suspend --order A-1 --authority aichi --number 0521234567 --received 2024-04-01 >/dev/null
	C suspend --order A-2 --authority aichi --number 0521234568 --received 2024-04-01 >/dev/null
	C lift --order A-3 --number 0521234567 --reason test >/dev/null
	expect 0 "chain intact" -- C audit verify
	contains "four records" "intact: 4 records"
	# Rewrite record 2 as someone with Redis access would: valid JSON, other principal.
	local rec
	rec=$(rcli --raw LINDEX teishi:audit 1)
	rcli LSET teishi:audit 1 "${rec/\"principal\":\"/\"principal\":\"x}" >/dev/null
	expect 1 "edit detected" -- C audit verify
	contains "first broken record named" "BROKEN at record 2"
	expect 0 "json says where" -- bash -c "\"$TEISHICTL\" -s \"$W/sock\" --json audit verify; true"
	contains "json first_broken" '"first_broken":2'
	# Restore, then drop the last record: the head catches truncation.
	rcli LSET teishi:audit 1 "$rec" >/dev/null
	expect 0 "restored" -- C audit verify
	rcli RPOP teishi:audit >/dev/null
	expect 1 "truncation detected" -- C audit verify
}

case_feed() {
	start_teishid
	C contractor add acme >/dev/null
	C suspend --order F-1 --authority hyogo --number 0781234567 05012345678 --received 2024-08-01 >/dev/null
	C lift --order F-2 --number 0781234567 --reason "request withdrawn" --received 2024-08-02 >/dev/null
	expect 0 "export" -- C export --since 2024-01-01 --out "$W/feed.jsonl"
	equals "feed lines: header, 3 items, signature" "$(wc -l <"$W/feed.jsonl")" 5
	# The same feed signed by a key nobody configured.
	stop_teishid
	start_teishid --feed-key "$W/rogue.key"
	C export --since 2024-01-01 --out "$W/forged.jsonl" 2>/dev/null
	stop_teishid
	# The peer side: a fresh Redis, with this side's public key configured as "jusa".
	redis_fixture_stop
	rstart
	cp "$W/own.pub" "$W/jusa.pub"
	start_teishid
	expect 1 "feed signed with the wrong key refused" -- C import "$W/forged.jsonl" --peer jusa
	contains "reason given" "bad signature"
	sed 's/05012345678/05012345679/' "$W/feed.jsonl" >"$W/altered.jsonl"
	sed -i 's/815012345678/815012345679/' "$W/altered.jsonl"
	expect 1 "altered feed refused" -- C import "$W/altered.jsonl" --peer jusa
	head -n 2 "$W/feed.jsonl" >"$W/unsigned.jsonl"
	expect 1 "unsigned feed refused" -- C import "$W/unsigned.jsonl" --peer jusa
	equals "refused feeds changed nothing: entries" "$(rcli SCARD teishi:entries)" 0
	equals "refused feeds changed nothing: stream" "$(rcli XLEN teishi:changes)" 0
	expect 0 "good feed imported" -- C import "$W/feed.jsonl" --peer jusa
	contains "net effect applied" "3 new items of 3 (1 suspensions added, 0 lifted)"
	equals "050 number suspended from the feed" "$(rcli SISMEMBER teishi:entries 815012345678)" 1
	equals "suspended-then-lifted number absent" "$(rcli SISMEMBER teishi:entries 81781234567)" 0
	expect 0 "lookup shows the peer order" -- C lookup 05012345678
	contains "peer order" "order peer:jusa/F-1"
	expect 0 "same feed again" -- C import - --peer jusa <"$W/feed.jsonl"
	contains "seen items skipped" "seen before"
	equals "stream: one add only" "$(rcli XLEN teishi:changes)" 1
	expect 0 "audit records the import by hash" -- C --json audit show --cmd import
	contains "feed hash audited" '"sha256"'
}

case_stats_2024() {
	[ "$ROOT" = 1 ] || { echo "skip: bulk approvals need a second supervisor (root for setpriv)"; exit 77; }
	start_teishid
	# The scheme's figures: 2024 and cumulative since Sep 2019.
	awk -v seed=7 '
	function day(y, i) { return sprintf("%04d-%02d-%02d", y, 1 + i % 12, 1 + i % 28) }
	BEGIN {
		# fixed-line: 12,665 before 2024 (Sep 2019 - 2023), 1,307 in 2024
		n = 0
		for (i = 0; i < 12665; i += 50) { k = (12665 - i < 50) ? 12665 - i : 50
			y = 2020 + int(i / 3200); printf "suspend --order FX-%d --authority tokyo --received %s --number", n++, (y == 2020 && i < 50) ? "2019-09-10" : day(y, i / 50)
			for (j = 0; j < k; j++) printf " 03%08d", 10000000 + i + j; printf "\n" }
		for (i = 0; i < 1307; i += 50) { k = (1307 - i < 50) ? 1307 - i : 50
			printf "suspend --order FY-%d --authority osaka --received %s --number", n++, day(2024, i / 50)
			for (j = 0; j < k; j++) printf " 06%08d", 10000000 + i + j; printf "\n" }
		# 050: 9,482 before 2024, 2,106 in 2024
		for (i = 0; i < 9482; i += 50) { k = (9482 - i < 50) ? 9482 - i : 50
			y = 2021 + int(i / 3200); printf "suspend --order IX-%d --authority fukuoka --received %s --number", n++, day(y, i / 50)
			for (j = 0; j < k; j++) printf " 050%08d", 20000000 + i + j; printf "\n" }
		for (i = 0; i < 2106; i += 50) { k = (2106 - i < 50) ? 2106 - i : 50
			printf "suspend --order IY-%d --authority aichi --received %s --number", n++, day(2024, i / 50)
			for (j = 0; j < k; j++) printf " 050%08d", 30000000 + i + j; printf "\n" }
		# orders from 2025 must not count for 2024
		printf "suspend --order LATE-1 --authority tokyo --received 2025-01-02 --number 0399990000\n"
		# 14 refusals in 2024, to 14 contractors
		for (i = 0; i < 14; i++) {
			printf "contractor add r%d\n", i
			printf "refuse --order NR-%d --contractor r%d --until 2025-06-30 --received %s\n", i, i, day(2024, i)
		}
		# 10 providers, 10,126 numbers: nine blocks of 1,000 and one of 1,126
		for (p = 0; p < 10; p++) {
			printf "contractor add prov%d\n", p
			size = (p == 9) ? 1126 : 1000
			lo = 40000000 + p * 10000
			printf "assign --contractor prov%d --range 050%08d..050%08d\n", p, lo, lo + size - 1
			printf "bulk-suspend --order BX-%d --contractor prov%d --received %s\n", p, p, day(2024, p)
		}
	}' >"$W/orders"
	for p in $(seq 0 9); do echo "approve BX-$p"; done >"$W/approvals"
	expect 0 "orders entered by teishictl -f" -- C -f "$W/orders"
	expect 0 "bulk approvals by a second supervisor, teishictl -f" -- as_uid 4001 -f "$W/approvals"
	expect 0 "report stats --year 2024" -- C report stats --year 2024
	echo "$OUT"
	contains "fixed-line 2024 / cumulative" "fixed-line numbers suspended                  1307                   13972"
	contains "050 2024 / cumulative" "050 IP-phone numbers suspended                2106                   11588"
	contains "refusals" "refusal-of-new-numbers requests               14                     14"
	contains "providers" "inventory bulk suspension: providers          10                     10"
	contains "bulk numbers" "inventory bulk suspension: numbers suspended  10126                  10126"
	contains "cumulative since Sep 2019" "cumulative, 2019-09 - end 2024"
	expect 0 "stats as JSON" -- C --json report stats --year 2024
	contains "json in_year" '"in_year":{"fixed_line":1307,"ip050":2106,"refusal_requests":14,"bulk_providers":10,"bulk_numbers":10126}'
}

case_config() {
	# Every key from a file, nothing on the command line.
	cat >"$W/teishid.conf" <<CONF
# test config
redis $REDIS_ADDR
redis-user teishid
redis-password-file $W/redis.pw   
socket $W/sock
roles $W/roles
feed-key $W/own.key
feed-origin carrierB   # the origin named in exported feeds
peer jusa=$W/jusa.pub
allow-volatile-redis no
CONF
	rm -f "$W/sock"
	"$TEISHID" --config "$W/teishid.conf" >>"$W/teishid.log" 2>&1 &
	DPID=$!
	for _ in $(seq 200); do [ -S "$W/sock" ] && break; sleep 0.02; done
	expect 0 "teishid from --config alone serves" -- C status
	expect 0 "feed-key and feed-origin from the file" -- C export --out "$W/f.jsonl"
	equals "origin from the file" "$(head -1 "$W/f.jsonl" | grep -o '"origin":"[a-zA-Z]*"')" '"origin":"carrierB"'
	expect 1 "peer from the file" -- C import "$W/roles" --peer nobody
	contains "configured peer listed" "configured peers: jusa"
	stop_teishid
	# The command line overrides the file.
	rm -f "$W/sock" "$W/sock2"
	"$TEISHID" --config "$W/teishid.conf" --socket "$W/sock2" >>"$W/teishid.log" 2>&1 &
	DPID=$!
	for _ in $(seq 200); do [ -S "$W/sock2" ] && break; sleep 0.02; done
	expect 0 "--socket overrides the file" -- "$TEISHICTL" -s "$W/sock2" status
	equals "file's socket not created" "$([ -e "$W/sock" ] && echo yes || echo no)" no
	stop_teishid
	# Errors name the file and line, exit 2.
	printf '# bad\nredis %s\nfrobnicate 1\n' "$REDIS_ADDR" >"$W/bad.conf"
	expect 2 "unknown key: exit 2" -- "$TEISHID" --config "$W/bad.conf"
	contains "unknown key: file:line" "$W/bad.conf:3: unknown key or bad value \"frobnicate\""
	printf 'socket\n' >"$W/bad2.conf"
	expect 2 "key without value: exit 2" -- "$TEISHID" --config "$W/bad2.conf"
	contains "missing value: file:line" "$W/bad2.conf:1: missing value for \"socket\""
	printf 'allow-volatile-redis maybe\n' >"$W/bad3.conf"
	expect 2 "bad yes/no: exit 2" -- "$TEISHID" --config "$W/bad3.conf"
	contains "bad value: file:line" "$W/bad3.conf:1:"
	expect 2 "missing config file: exit 2" -- "$TEISHID" --config "$W/nope.conf"
	contains "missing file named" "$W/nope.conf"
	# The shipped example: every key known, all commented out.
	local ex="$HERE/../../control/teishid.conf.example"
	expect 2 "example as is: only the required keys missing" -- "$TEISHID" --config "$ex"
	contains "example: required keys" "--redis, --socket and --roles are required"
	sed 's/^#\([a-z-]\{1,\} \)/\1/' "$ex" >"$W/ex.conf"
	equals "example lists every key" "$(grep '^[a-z]' "$W/ex.conf" | cut -d' ' -f1 | sort | tr '\n' ' ')" \
		"allow-volatile-redis feed-key feed-origin peer redis redis-password-file redis-user roles socket socket-group "
	# Uncommented, it parses, then stops at the first file that is not
	# there (the password file).
	expect 2 "example uncommented: every key parses" -- "$TEISHID" --config "$W/ex.conf"
	contains "example: past the keys" "--redis-password-file /etc/teishi/redis.password"
}

# teishi-dp --redis reporting to teishid through Redis: heartbeats
# (teishictl dataplanes) and blocked calls (teishictl events).  The
# states that need time or faults (behind, stale, mismatch, gone) come
# from heartbeats written here as a dataplane would.
case_dataplanes() {
	local DP="${TEISHI_BUILD_ROOT:-$HERE/../../build}/dataplane/teishi-dp" DPPID=""
	if [ ! -x "$DP" ]; then echo "skipped: teishi-dp not built"; return 0; fi
	start_teishid
	expect 1 "dataplanes: none yet exits 1" -- C dataplanes
	contains "none reported" "no dataplane has reported a heartbeat"
	expect 0 "suspend before the dataplane starts" -- C suspend --order D-1 --authority tokyo \
		--number 03-1234-5678 --received 2024-03-01
	TEISHI_SOURCE_ROOT=$HERE/../.. python3 - "$W" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["TEISHI_SOURCE_ROOT"], "tests", "lib"))
import netpkt
body = (b"INVITE sip:0312340000@192.0.2.20 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-dp1\r\n"
        b"From: <sip:0312345678@192.0.2.10>;tag=a1\r\nTo: <sip:0312340000@192.0.2.20>\r\n"
        b"Call-ID: dp-events-1@192.0.2.10\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
l2 = netpkt.ether("02:00:00:00:00:02", "02:00:00:00:00:01", 0x0800)
netpkt.write_pcap(os.path.join(sys.argv[1], "in.pcap"),
                  netpkt.udp4_frames(l2, "192.0.2.10", "192.0.2.20", 5060, 5060, body))
netpkt.write_pcap(os.path.join(sys.argv[1], "empty.pcap"), [])
PY
	"$DP" -l 0-1 --no-huge -m 256 --no-pci --file-prefix "teishi-ctl-$$" --log-level error \
		--vdev "net_pcap0,rx_pcap=$W/in.pcap,tx_pcap=$W/out0.pcap" \
		--vdev "net_pcap1,rx_pcap=$W/empty.pcap,tx_pcap=$W/out1.pcap" \
		-- --redis "$REDIS_ADDR" --redis-user teishid --redis-password-file "$W/redis.pw" \
		--name dp1 >"$W/dp.log" 2>&1 &
	DPPID=$!
	for _ in $(seq 200); do [ "$(rcli EXISTS teishi:dataplane:dp1)" = 1 ] && break; sleep 0.05; done
	expect 0 "dataplanes: the running one is current" -- C dataplanes
	contains "one of one current" "1 of 1 dataplanes current"
	contains "its entries" "dp1"
	for _ in $(seq 100); do [ "$(rcli XLEN teishi:events)" = 1 ] && break; sleep 0.05; done
	expect 0 "events" -- C events
	contains "event: the dataplane" "dp1"
	contains "event: the number" "+81312345678"
	contains "event: the call" "dp-events-1@192.0.2.10"
	contains "event: reject code" "608"
	expect 0 "status counts dataplanes and events" -- C status
	contains "status: dataplanes" "dataplanes"
	contains "status: events" "blocked_call_events"
	expect 0 "events --csv" -- C events --csv
	contains "csv header" "time,dataplane,number,entry,side,header,action,code,src,call_id"
	expect 0 "events of another dataplane: none" -- C events --dataplane other
	contains "filtered out" "0 blocked calls from other"
	expect 0 "suspend while it runs" -- C suspend --order D-2 --authority tokyo \
		--number 050-1111-2222 --received 2024-03-02
	local cur=1
	for _ in $(seq 60); do C dataplanes >/dev/null 2>&1 && { cur=0; break; }; sleep 0.05; done
	equals "current again within 3 s of the change" "$cur" 0
	equals "the heartbeat holds both entries" "$(rcli HGET teishi:dataplane:dp1 entries)" 2

	local now old first
	now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
	old=$(date -u -d '-60 sec' +%Y-%m-%dT%H:%M:%S.000Z)
	first=$(rcli XRANGE teishi:changes - + COUNT 1 | head -1)
	rcli HSET teishi:dataplane:lag at "$now" stream_id "$first" entries 1 >/dev/null
	rcli HSET teishi:dataplane:old at "$old" stream_id "$first" entries 1 >/dev/null
	rcli SADD teishi:dataplanes lag old >/dev/null
	expect 1 "dataplanes: one behind, one stale" -- C dataplanes
	contains "summary" "1 of 3 dataplanes current"
	contains "behind by the records it lacks" "behind"
	contains "stale" "stale"
	expect 1 "--json says which (and exits 1 too)" -- "$TEISHICTL" -s "$W/sock" --json dataplanes
	contains "behind count" '"name":"lag","state":"behind","behind":1'
	contains "verdict" '"ok":false'
	# a dataplane that reloaded from a Redis that went back in time says
	# what it had applied; the summary says what that means
	rcli HSET teishi:dataplane:lag rewound_from 99999999999999-0 >/dev/null
	expect 1 "dataplanes: one reloaded from a rewound Redis" -- C dataplanes
	contains "rewound: said" "1 reloaded from a Redis that went back in time, first lag (it had applied 99999999999999-0)"
	expect 1 "--json: rewound_from" -- "$TEISHICTL" -s "$W/sock" --json dataplanes
	contains "rewound_from field" '"rewound_from":"99999999999999-0"'

	kill -TERM "$DPPID"; wait "$DPPID"
	equals "teishi-dp exits 0" "$?" 0
	expect 1 "forget a live one: refused" -- C dataplane forget dp1
	contains "live: refused" "is live"
	rcli DEL teishi:dataplane:dp1 teishi:dataplane:lag teishi:dataplane:old >/dev/null
	expect 1 "dataplanes: gone ones" -- C dataplanes
	contains "gone" "gone"
	expect 0 "forget" -- C dataplane forget dp1
	expect 1 "forget again: none listed" -- C dataplane forget dp1
	contains "not listed" "no dataplane dp1 is listed"
	expect 1 "forget: bad name" -- C dataplane forget 'a b'
	C dataplane forget lag >/dev/null && C dataplane forget old >/dev/null
	expect 1 "dataplanes: none left" -- C dataplanes
	contains "none left" "no dataplane has reported a heartbeat"
	expect 0 "audit has the forget" -- C audit show --cmd "dataplane forget"
	contains "audited" "dataplane dp1 no longer listed"
}

# A site whose replica is cut off from the primary: the dataplane there
# follows the replica, and its heartbeat (to the primary, --redis-write)
# shows what it holds.  An order made during the cut is not in force
# there, and teishictl dataplanes says so (behind, exit 1) until the link
# is back and the dataplane caught up.  The same when the replica hangs:
# the heartbeat goes on while teishi-dp waits on it.
case_dataplanes_partition() {
	local DP="${TEISHI_BUILD_ROOT:-$HERE/../../build}/dataplane/teishi-dp" RSOCK="$W/replica.sock" RPID="" DPPID=""
	if [ ! -x "$DP" ]; then echo "skipped: teishi-dp not built"; return 0; fi
	start_teishid
	expect 0 "suspend before the cut" -- C suspend --order P-1 --authority osaka \
		--number 06-6123-0001 --received 2024-03-01
	# the replica on a unix socket: no port to collide with another test's
	redis-server --port 0 --unixsocket "$RSOCK" --dir "$W" --save "" --appendonly no \
		--replicaof 127.0.0.1 "$REDIS_PORT" --masteruser teishid --masterauth "pw-$$" \
		--user default on ">$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" "~*" "&*" "+@all" \
		--user teishid on ">pw-$$" "~*" "&*" "+@all" \
		--logfile "$W/replica.log" >/dev/null 2>&1 &
	RPID=$!
	rep() { redis-cli --no-auth-warning -s "$RSOCK" --user teishid --pass "pw-$$" "$@"; }
	for _ in $(seq 200); do rep INFO replication 2>/dev/null | grep -q master_link_status:up && break; sleep 0.05; done
	TEISHI_SOURCE_ROOT=$HERE/../.. python3 -c '
import os, sys
sys.path.insert(0, os.path.join(os.environ["TEISHI_SOURCE_ROOT"], "tests", "lib"))
import netpkt
netpkt.write_pcap(sys.argv[1], [])' "$W/empty.pcap"
	"$DP" -l 0-1 --no-huge -m 256 --no-pci --file-prefix "teishi-part-$$" --log-level error \
		--vdev "net_pcap0,rx_pcap=$W/empty.pcap,tx_pcap=$W/out0.pcap" \
		--vdev "net_pcap1,rx_pcap=$W/empty.pcap,tx_pcap=$W/out1.pcap" \
		-- --redis "$RSOCK" --redis-write "$REDIS_ADDR" --redis-user teishid \
		--redis-password-file "$W/redis.pw" --name dp-site-b >"$W/dp.log" 2>&1 &
	DPPID=$!
	local cur=1
	for _ in $(seq 100); do C dataplanes >/dev/null 2>&1 && { cur=0; break; }; sleep 0.05; done
	equals "the site's dataplane is current through the replica" "$cur" 0

	# the cut: the replica can no longer authenticate to the primary
	rep CONFIG SET masterauth wrong >/dev/null
	rep CLIENT KILL TYPE master >/dev/null
	for _ in $(seq 100); do rep INFO replication | grep -q master_link_status:down && break; sleep 0.05; done
	expect 0 "suspend during the cut" -- C suspend --order P-2 --authority osaka \
		--number 050-1111-2222 --received 2024-03-02
	sleep 2.5 # heartbeats every second: what the dataplane holds is known by now
	expect 1 "dataplanes: the cut-off site is behind (exit 1)" -- C dataplanes
	contains "behind, by the one record" "behind"
	expect 1 "--json: dp-site-b behind by one" -- "$TEISHICTL" -s "$W/sock" --json dataplanes
	contains "behind count" '"name":"dp-site-b","state":"behind","behind":1'
	equals "the replica does not hold the new entry" "$(rep SISMEMBER teishi:entries 815011112222)" 0

	# the link back: the replica catches up, and so does the dataplane
	rep CONFIG SET masterauth "pw-$$" >/dev/null
	cur=1
	for _ in $(seq 200); do C dataplanes >/dev/null 2>&1 && { cur=0; break; }; sleep 0.05; done
	equals "current again once the link is back (within 10 s)" "$cur" 0
	equals "its heartbeat holds both entries" "$(rcli HGET teishi:dataplane:dp-site-b entries)" 2

	# the replica hangs (SIGSTOP) for longer than a heartbeat may be old:
	# teishi-dp waits on it, and its heartbeat still reaches the primary
	kill -STOP "$RPID"
	expect 0 "suspend while the replica hangs" -- C suspend --order P-3 --authority osaka \
		--number 050-3333-4444 --received 2024-03-03
	sleep 4.5
	expect 1 "dataplanes: the site behind, not stale" -- "$TEISHICTL" -s "$W/sock" --json dataplanes
	contains "alive and behind by one" '"name":"dp-site-b","state":"behind","behind":1'
	kill -CONT "$RPID"
	cur=1
	for _ in $(seq 200); do C dataplanes >/dev/null 2>&1 && { cur=0; break; }; sleep 0.05; done
	equals "current again once the replica answers" "$cur" 0
	kill -TERM "$DPPID"; wait "$DPPID"
	equals "teishi-dp exits 0" "$?" 0
	kill "$RPID"; wait "$RPID" 2>/dev/null
}

"case_$CASE"
echo "$CASE: $FAILS failures"
[ "$FAILS" = 0 ]
