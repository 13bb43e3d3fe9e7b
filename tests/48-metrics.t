#!/bin/sh
# Metrics for a fleet: after a known sequence of events (grants, a limit, a
# too-soon, a busy refusal, a timeout, a denial, an unknown pool, a revoke,
# an expiry, a helper crash, a refused and an applied reload), the status's
# counters record (-k) says exactly how many of each happened, and
# holdingpen-status -m says the same in Prometheus's text format, which
# promtool accepts. The human table ignores the counters record. Then the
# example service examples/s6/holdingpen-metrics writes the file for
# node_exporter's textfile collector, and replaces it atomically.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hpp_open_tmp
command -v promtool > /dev/null 2>&1 || skip_all "promtool (Debian package prometheus) is not installed"
test -x /bin/execlineb || skip_all "/bin/execlineb (the example's interpreter) is not installed"

R=$T/rules
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1

hp_pool open 1M 1 killdelay=1
hp_pool other 1M 2 maxperuid=1
hp_pool exp 1M 1 expire=1 killdelay=1
hp_pool soon 1M 1 ifelapsed=3600
# the metrics service below finds holdingpen-status in the supervision tree's PATH
PATH="$HP_BUILD:$PATH"
export PATH
hp_start_supervised -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

# m_value FILE SAMPLE: the value of the sample whose name and labels are
# SAMPLE (as written, e.g. holdingpen_slots{pool="open",state="ready"}).
m_value() {
  awk -v s="$2" '$1 == s { print $2 ; exit }' "$1"
}

# k_counter KEY: KEY in the counters record of holdingpen-status -k.
k_counter() {
  hp_status | awk -v k="$1" '$1 == "counters=daemon" { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2) ; exit } }'
}

all_settled() {
  for _p in open other exp soon ; do
    _c=$(hp_field "$_p" count)
    test "$(hp_field "$_p" ready)" = "$_c" || return 1
  done
  test -z "$(hp_status | grep '^lease=')"
}

# --- the known sequence ---
hp_claim other true
is "$?" 0 "a claim on other, granted"
hp_until 5000 hp_field_is other ready 2
hp_hold o1 other
ok "a holder on other" hp_until 5000 hp_holds o1
hp_claim -n other true 2> /dev/null
is "$?" 4 "a second claim of root on other (maxperuid 1): limit"
kill -TERM "$HOLD_o1"
hp_claim soon true
is "$?" 0 "a claim on soon, granted"
hp_claim soon true 2> /dev/null
is "$?" 3 "another claim on soon (ifelapsed): too soon"
hp_hold h open
ok "a holder on open" hp_until 5000 hp_holds h
hp_claim -n open true 2> /dev/null
is "$?" 5 "a claim -n on open: busy"
hp_claim -t 300 open true 2> /dev/null
is "$?" 99 "a claim -t 300 on open: timeout"
hpp_claim_as "$HPP_NOBODY" other true 2> /dev/null
is "$?" 1 "nobody (no rule) claims: denied"
hp_claim nosuch true 2> /dev/null
is "$?" 2 "a claim on a pool that does not exist: no such pool"
hpp_revoke "$(cat "$T/h.lease")"
is "$?" 0 "the holder of open is revoked"
ok "it dies of the careful kill (SIGCONT, then SIGINT)" hp_until 5000 hp_dead "$HOLD_h"
hp_hold e exp
ok "a holder on exp (expire 1)" hp_until 5000 hp_holds e
ok "it dies when its lease expires" hp_until 8000 hp_dead "$HOLD_e"
ok "every slot ready again" hp_until 10000 all_settled
victim=
for p in $(hp_helper_pids) ; do
  case " $(hp_cmdline "$p") " in *" -p open "*) victim=$p ;; esac
done
like "$victim" '^[0-9]+$' "the helper of pool open, a child of the daemon"
kill -KILL "$victim"
ok "it is respawned" hp_until 10000 all_settled
mkdir "$T/pools/bad" && echo nonsense > "$T/pools/bad/kind" && echo 1M > "$T/pools/bad/size"
hpp_revoke -r 2> /dev/null
is "$?" 6 "a reload with a bad pool: refused"
rm -rf "$T/pools/bad"
hpp_revoke -r
is "$?" 0 "a reload: applied"
ok "every slot ready, no lease" hp_until 10000 all_settled

# --- the counters record ---
hp_status > "$T/k"
ok "status -k ends with a counters record" test "$(tail -n 1 "$T/k" | cut -d' ' -f1)" = counters=daemon
is "$(grep -c '^counters=' "$T/k")" 1 "one counters record"
# signals: each kill step the log says went (a background sleep ignores
# SIGINT, so its careful kill goes on to SIGTERM)
sent=$(hp_log_count 'event=kill .*sent=yes')
cmp_ok "$sent" -ge 4 "at least CONT and INT were sent for each of the two careful kills"
for kv in granted=5 denied=1 nopool=1 toosoon=1 limit=1 busy=1 timeout=1 expired=1 revoked=1 signals=$sent helpercrashes=1 reloads=1 reloadfailures=1 ; do
  is "$(k_counter "${kv%%=*}")" "${kv#*=}" "counters: ${kv%%=*} is ${kv#*=}"
done
like "$(k_counter uptime)" '^[0-9]+$' "counters: uptime in seconds"

# --- the Prometheus output, taken at once ---
hp_status > "$T/k"
timeout -s KILL 20 "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" -m > "$T/m"
is "$?" 0 "holdingpen-status -m: exit 0"
promtool check metrics < "$T/m" > "$T/promtool.out" 2>&1
is "$?" 0 "promtool check metrics accepts it"
diag "$(cat "$T/promtool.out")"
for f in holdingpen_slots holdingpen_waiters holdingpen_slot_size_bytes holdingpen_uptime_seconds ; do
  ok "$f: a gauge with HELP" sh -c 'grep -q "^# TYPE $1 gauge\$" "$2" && grep -q "^# HELP $1 ." "$2"' sh "$f" "$T/m"
done
for f in holdingpen_claims_granted_total holdingpen_claims_refused_total holdingpen_leases_expired_total holdingpen_leases_revoked_total holdingpen_kill_signals_total holdingpen_helper_crashes_total holdingpen_reloads_total ; do
  ok "$f: a counter with HELP" sh -c 'grep -q "^# TYPE $1 counter\$" "$2" && grep -q "^# HELP $1 ." "$2"' sh "$f" "$T/m"
done

# every number of -m is the one of the -k records
kf() { awk -v p="pool=$1" -v k="$2" '$1 == p { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2) ; exit } }' "$T/k" ; }
kc() { awk -v k="$1" '$1 == "counters=daemon" { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2) ; exit } }' "$T/k" ; }
for p in open other exp soon ; do
  sum=0
  for st in ready held preparing short failed ; do
    v=$(m_value "$T/m" "holdingpen_slots{pool=\"$p\",state=\"$st\"}")
    want=$(kf "$p" "$st")
    test "$st" = preparing && want=$((want - $(kf "$p" short)))
    is "$v" "$want" "pool $p: holdingpen_slots state=$st is the record's $st"
    sum=$((sum + ${v:-0}))
  done
  is "$sum" "$(kf "$p" count)" "pool $p: the states add up to count"
  is "$(m_value "$T/m" "holdingpen_waiters{pool=\"$p\"}")" "$(kf "$p" waiters)" "pool $p: holdingpen_waiters"
  is "$(m_value "$T/m" "holdingpen_slot_size_bytes{pool=\"$p\"}")" "$(kf "$p" size)" "pool $p: holdingpen_slot_size_bytes"
done
is "$(m_value "$T/m" holdingpen_claims_granted_total)" "$(kc granted)" "claims_granted_total is granted"
for r in denied nopool toosoon limit busy timeout ; do
  is "$(m_value "$T/m" "holdingpen_claims_refused_total{reason=\"$r\"}")" "$(kc "$r")" "claims_refused_total{reason=$r} is $r"
done
is "$(m_value "$T/m" holdingpen_leases_expired_total)" "$(kc expired)" "leases_expired_total is expired"
is "$(m_value "$T/m" holdingpen_leases_revoked_total)" "$(kc revoked)" "leases_revoked_total is revoked"
is "$(m_value "$T/m" holdingpen_kill_signals_total)" "$(kc signals)" "kill_signals_total is signals"
is "$(m_value "$T/m" holdingpen_helper_crashes_total)" "$(kc helpercrashes)" "helper_crashes_total is helpercrashes"
is "$(m_value "$T/m" 'holdingpen_reloads_total{result="ok"}')" "$(kc reloads)" "reloads_total{result=ok} is reloads"
is "$(m_value "$T/m" 'holdingpen_reloads_total{result="failed"}')" "$(kc reloadfailures)" "reloads_total{result=failed} is reloadfailures"
up_m=$(m_value "$T/m" holdingpen_uptime_seconds)
up_k=$(kc uptime)
ok "uptime_seconds is uptime, give or take the second between the two requests" \
  test -n "$up_m" -a -n "$up_k" -a "${up_m:-0}" -ge "${up_k:-1}" -a "${up_m:-0}" -le $((${up_k:-0} + 1))

# -m with a pool named: that pool's gauges only, and the counters
timeout -s KILL 20 "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" -m open > "$T/m1"
is "$(grep -c 'pool="' "$T/m1")" 8 "-m open: 8 samples with a pool label (5 states, waiters, size, configured count)"
is "$(grep -c 'pool="open"' "$T/m1")" 8 "all of pool open"
is "$(m_value "$T/m1" 'holdingpen_slots_configured{pool="open"}')" 1 "holdingpen_slots_configured is the pool's count"

# --- the table ignores the counters record ---
timeout -s KILL 20 "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" > "$T/table"
is "$?" 0 "the table: exit 0"
is "$(head -n 1 "$T/table" | awk '{ print $1 }')" POOL "it starts with the pool block"
is "$(grep -cE '^(open|other|exp|soon) ' "$T/table")" 4 "one row per pool"
is "$(grep -c . "$T/table")" 5 "and nothing else: no row for the counters record"

# --- the example service: the textfile for node_exporter ---
EX="$HP_TESTDIR/../examples/s6/holdingpen-metrics"
MS="$HP_SCANDIR/holdingpen-metrics"
cp -pR "$EX" "$MS"
mkdir -p "$T/textfile"
# The adaptations: the directory, a 1-second interval, the test's socket.
echo "$T/textfile" > "$MS/env/TEXTFILE_DIR"
echo 1 > "$MS/env/INTERVAL"
echo "$HP_SOCKET" > "$MS/env/HOLDINGPEN_SOCKET"
is "$(diff -rq "$EX" "$MS" | sed -e "s|$MS|MS|g" -e "s|$EX|EX|g" | sort | tr '\n' ' ')" \
  "Files EX/env/INTERVAL and MS/env/INTERVAL differ Files EX/env/TEXTFILE_DIR and MS/env/TEXTFILE_DIR differ Only in MS/env: HOLDINGPEN_SOCKET " \
  "the copy differs from the example in the three env files only"
PROM=$T/textfile/holdingpen.prom
# A file left from before (an earlier boot) stays while no broker answers,
# unchanged, so that its age shows it (doc/debian.html): the service
# first runs with a socket where nothing listens.
printf '%s\n' '# HELP holdingpen_slots left from an earlier boot' 'holdingpen_slots{pool="open",state="held"} 1' > "$PROM"
touch -d '-1 hour' "$PROM"
old_m=$(stat -c %Y "$PROM")
echo "$T/nobroker.socket" > "$MS/env/HOLDINGPEN_SOCKET"
s6-svscanctl -a "$HP_SCANDIR"
ok "the service starts" hp_until 10000 sh -c 's6-svstat -o up "$1" | grep -qx true' sh "$MS"
sleep 3
like "$(cat "$PROM" 2>&1)" "left from an earlier boot" "with no broker to ask, a file left from before stays, three intervals later"
is "$(stat -c %Y "$PROM" 2>&1)" "$old_m" "its mtime unchanged: an hour old, as node_textfile_mtime_seconds will say"
echo "$HP_SOCKET" > "$MS/env/HOLDINGPEN_SOCKET"
s6-svc -r "$MS"
ok "the service writes holdingpen.prom" hp_until 10000 sh -c 'test -s "$1" && ! grep -q "earlier boot" "$1"' sh "$PROM"
promtool check metrics < "$PROM" > /dev/null 2>&1
is "$?" 0 "promtool accepts the file"
hp_hold r open
ok "a holder on open" hp_until 5000 hp_holds r
ok "the file shows its slot held within a few seconds" hp_until 5000 sh -c 'grep -q "^holdingpen_slots{pool=\"open\",state=\"held\"} 1\$" "$1"' sh "$PROM"
kill -TERM "$HOLD_r"
ok "and ready again once it is gone" hp_until 5000 sh -c 'grep -q "^holdingpen_slots{pool=\"open\",state=\"ready\"} 1\$" "$1"' sh "$PROM"
g0=$(m_value "$PROM" holdingpen_claims_granted_total)
hp_claim open true
granted_moved() { test "$(m_value "$PROM" holdingpen_claims_granted_total)" = $((g0 + 1)) ; }
ok "after one more claim, the file says so within a few seconds" hp_until 5000 granted_moved
# Atomic replacement: a reader never sees a missing, empty or half-written
# file. Read it as the collector would, many times over several rewrites.
bad=0 reads=0
end=$(($(hp_now_ms) + 3000))
while test "$(hp_now_ms)" -lt "$end" ; do
  c=$(cat "$PROM" 2> /dev/null)
  reads=$((reads + 1))
  # whole: from the first family to the last sample of the last pool family
  case $c in
    '# HELP holdingpen_slots '*'holdingpen_slots_configured{pool="soon"} 1'*) ;;
    *) bad=$((bad + 1)) ;;
  esac
done
note "$reads reads of the file in 3 s"
is "$bad" 0 "every read got a whole file"
is "$(ls "$T/textfile" | grep -vc '^holdingpen\.prom\(\.tmp\)\{0,1\}$')" 0 "the service writes no other file there"
s6-svc -d "$MS"

done_testing
