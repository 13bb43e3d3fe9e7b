#!/bin/sh
# The claim benchmark's programs run and print every line bench/run.sh
# reads: hp-bench-claim against a supervised broker and against
# hp-bench-rawd, a few claims, held leases, the daemon's memory; and those
# of bench/keep.sh: hp-bench-hold holds leases until its stdin ends,
# hp-bench-restart restarts the broker by SIGKILL and says when it was
# ready again. No figure is judged: timing belongs to bench/, never to a
# test.
. "$(dirname "$0")/lib.sh"

BENCH="$HP_BUILD/bench"
for p in hp-bench-claim hp-bench-rawd hp-bench-hold hp-bench-restart ; do
  test -x "$BENCH/$p" || skip_all "no bench programs: make bench"
done

"$BENCH/hp-bench-claim" > /dev/null 2>&1
is "$?" 100 "hp-bench-claim without a target: usage, 100"
"$BENCH/hp-bench-claim" -l 2 -r "$T/raw.sock" > /dev/null 2>&1
is "$?" 100 "hp-bench-claim -l with no holdingpen target: 100"
"$BENCH/hp-bench-rawd" < /dev/null > /dev/null 2>&1
is "$?" 100 "hp-bench-rawd without a socket on stdin: 100"
"$BENCH/hp-bench-hold" 2 > /dev/null 2>&1
is "$?" 100 "hp-bench-hold without a socket and a pool: 100"
"$BENCH/hp-bench-restart" "$T" > /dev/null 2>&1
is "$?" 100 "hp-bench-restart without a name: 100"

hp_pool four 4k 4
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
dpid=$(hp_daemon_pid)

s6-ipcserver-socketbinder -a 0600 -- "$T/raw.sock" "$BENCH/hp-bench-rawd" < /dev/null 2> "$T/raw.err" &
rpid=$!
hp_track "$rpid"
ok "hp-bench-rawd listens" hp_until 5000 test -S "$T/raw.sock"

timeout -s KILL 60 "$BENCH/hp-bench-claim" -n 5 -w 1 -s 0 -l 0,2 -m "$dpid" -r "$T/raw.sock" t "$HP_SOCKET" four > "$T/out" 2> "$T/err"
is "$?" 0 "hp-bench-claim exits 0"
is "$(cat "$T/err")" "" "nothing on stderr"
num='[0-9]+\.[0-9]'
for l in 0 2 ; do
  for t in t raw ; do
    is "$(grep -c "^claim target=$t leases=$l " "$T/out")" 1 "one line for target $t at $l leases"
    like "$(grep "^claim target=$t leases=$l " "$T/out")" "^claim target=$t leases=$l claims=5 busy=[0-9]+ min_us=$num p10_us=$num p50_us=$num p90_us=$num p99_us=$num max_us=$num\$" "with the claims and the percentiles"
  done
  like "$(grep "^memory pid=$dpid leases=$l " "$T/out")" "^memory pid=$dpid leases=$l private_kb=[1-9][0-9]*\$" "the daemon's private memory at $l leases"
done
is "$(wc -l < "$T/out" | tr -d ' ')" 6 "and nothing else"
ok "the leases it held end with it: 4 slots ready again" hp_until 5000 hp_field_is four ready 4
ok "no slot was granted twice" hp_log_no_double_grant

# two leases held by one process, until its stdin ends
mkfifo "$T/hold"
hold_start() {
  timeout -s KILL 60 "$BENCH/hp-bench-hold" 2 "$HP_SOCKET" four < "$T/hold" > "$T/hold.out" 2> "$T/hold.err" &
  hpid=$!
  hp_track "$hpid"
}
hold_start
exec 8> "$T/hold"
ok "hp-bench-hold says it holds 2 leases" hp_until 10000 grep -qx 'held 2' "$T/hold.out"
ok "the broker lists them" hp_until 5000 hp_field_is four held 2
exec 8>&-
ok "they end with its stdin" hp_until 5000 hp_field_is four ready 4
wait "$hpid"
is "$?" 0 "hp-bench-hold exits 0"
is "$(cat "$T/hold.err")" "" "and said nothing"

# a restart by SIGKILL, timed from s6-supervise's stamps
dpid=$(hp_daemon_pid)
timeout -s KILL 60 "$BENCH/hp-bench-restart" "$HP_SVC" holdingpend > "$T/restart.out" 2> "$T/restart.err"
is "$?" 0 "hp-bench-restart exits 0"
is "$(cat "$T/restart.err")" "" "nothing on stderr"
like "$(cat "$T/restart.out")" "^restart pid=$dpid newpid=[0-9]+ death_to_spawn_ms=$num spawn_to_ready_ms=$num death_to_ready_ms=$num observed_ms=$num\$" "one line: the pids and the times"
isnt "$(hp_daemon_pid)" "$dpid" "another holdingpend runs"
ok "and it is ready" hp_wait_up
npid=$(hp_daemon_pid)
"$BENCH/hp-bench-restart" "$HP_SVC" sleep > /dev/null 2> "$T/restart.err"
is "$?" 111 "hp-bench-restart refuses a process of another name: 111"
ok "and signals nothing" hp_stays 500 eval 'test "$(hp_daemon_pid)" = "$npid"'


kill -TERM "$rpid"
wait "$rpid"
is "$?" 0 "hp-bench-rawd exits 0 on SIGTERM"
is "$(cat "$T/raw.err")" "" "and said nothing"

done_testing
