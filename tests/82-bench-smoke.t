#!/bin/sh
# The claim benchmark's programs run and print every line bench/run.sh
# reads: hp-bench-claim against a supervised broker and against
# hp-bench-rawd, a few claims, held leases, the daemon's memory. No figure
# is judged: timing belongs to bench/run.sh, never to a test.
. "$(dirname "$0")/lib.sh"

BENCH="$HP_BUILD/bench"
if ! test -x "$BENCH/hp-bench-claim" || ! test -x "$BENCH/hp-bench-rawd" ; then skip_all "no bench programs: make bench" ; fi

"$BENCH/hp-bench-claim" > /dev/null 2>&1
is "$?" 100 "hp-bench-claim without a target: usage, 100"
"$BENCH/hp-bench-claim" -l 2 -r "$T/raw.sock" > /dev/null 2>&1
is "$?" 100 "hp-bench-claim -l with no holdingpen target: 100"
"$BENCH/hp-bench-rawd" < /dev/null > /dev/null 2>&1
is "$?" 100 "hp-bench-rawd without a socket on stdin: 100"

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

kill -TERM "$rpid"
wait "$rpid"
is "$?" 0 "hp-bench-rawd exits 0 on SIGTERM"
is "$(cat "$T/raw.err")" "" "and said nothing"

done_testing
