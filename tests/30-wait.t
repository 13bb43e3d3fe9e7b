#!/bin/sh
# Exhausted pools: a claimant waits (FIFO) and gets a slot within a second of
# a holder's exit; -n fails at once with 5; -t fails with 99 after about that
# long; an unknown pool fails with 2; a waiter that goes away loses nothing.
. "$(dirname "$0")/lib.sh"

hp_pool two 8M 2
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

# --- two slots, three claimants ---
hp_hold h1 two
hp_hold h2 two
ok "two holders get the two slots" hp_until 5000 eval 'hp_holds h1 && hp_holds h2'
is "$(hp_field two held)" 2 "status: 2 held"
is "$(hp_field two ready)" 0 "status: 0 ready"

hp_hold c3 two
ok "the third claimant is listed as a waiter" hp_until 5000 hp_field_is two waiters 1
ok "the third claimant does not get a slot while both are held" hp_stays 500 eval '! hp_holds c3'
ok "log: event=wait for pool two" hp_log_kv_has event=wait pool=two
ok "the waiting holdingpen-claim is still running" hp_alive "$HOLD_c3"

t0=$(hp_now_ms)
kill -TERM "$HOLD_h1"
# "within a second": poll for 1 s plus 250 ms of slack for a loaded machine
ok "the third claimant gets the slot after the first holder exits" hp_until 1250 hp_holds c3
if hp_holds c3 ; then
  dt=$(($(cat "$T/c3.t") - t0))
  note "slot handed over $dt ms after the holder was killed"
  cmp_ok "$dt" -le 1250 "within a second (+250 ms slack) of the holder's exit"
else
  fail "within a second (+250 ms slack) of the holder's exit"
fi
ok "status: no waiter left" hp_until 2000 hp_field_is two waiters 0
is "$(hp_field two held)" 2 "status: 2 held again"

# --- -n: fail at once with 5 ---
t0=$(hp_now_ms)
hp_claim -n two touch "$T/ran-n" > "$T/out" 2> "$T/err"
rc=$?
dt=$(($(hp_now_ms) - t0))
is "$rc" 5 "-n on a full pool: exit 5"
cmp_ok "$dt" -lt 2000 "at once (took $dt ms)"
is "$(wc -l < "$T/err" | tr -d ' ')" 1 "one line on stderr"
like "$(cat "$T/err")" '^holdingpen-claim: ' "said by holdingpen-claim"
ok "prog was not run" test ! -e "$T/ran-n"

# --- -t: 99 after about that long ---
for ms in 500 1500 ; do
  t0=$(hp_now_ms)
  hp_claim -t $ms two touch "$T/ran-t" > "$T/out" 2> "$T/err"
  rc=$?
  dt=$(($(hp_now_ms) - t0))
  is "$rc" 99 "-t $ms on a full pool: exit 99"
  cmp_ok "$dt" -ge $((ms - 20)) "-t $ms: not before the deadline (took $dt ms)"
  cmp_ok "$dt" -le $((ms + 3000)) "-t $ms: not long after it"
  is "$(wc -l < "$T/err" | tr -d ' ')" 1 "-t $ms: one line on stderr"
  ok "-t $ms: prog was not run" test ! -e "$T/ran-t"
done
ok "log: event=timeout" hp_log_kv_has event=timeout pool=two
is "$(hp_field two waiters)" 0 "timed-out waiters are gone from the status"
is "$(hp_field two held)" 2 "and the two leases are untouched"

# -t long enough: a slot freed before the deadline is granted
( sleep 0.3 ; kill -TERM "$HOLD_h2" ) &
hp_claim -t 10000 two true
is "$?" 0 "-t 10000: a slot freed after 0.3 s is granted (exit 0)"
wait $!
ok "pool two: the freed slot is ready again" hp_until 5000 hp_field_is two ready 1

# --- unknown pool: 2 ---
for opt in "" "-n" "-t 2000" ; do
  # shellcheck disable=SC2086
  hp_claim $opt nosuchpool touch "$T/ran-u" > "$T/out" 2> "$T/err"
  is "$?" 2 "unknown pool ${opt:+with $opt }: exit 2"
  is "$(wc -l < "$T/err" | tr -d ' ')" 1 "unknown pool ${opt:+with $opt }: one line on stderr"
done
ok "unknown pool: prog was not run" test ! -e "$T/ran-u"

# --- FIFO order among waiters ---
kill -TERM "$HOLD_c3" 2>/dev/null
hp_until 5000 hp_field_is two ready 2
hp_hold f1 two
hp_hold f2 two
hp_until 5000 eval 'hp_holds f1 && hp_holds f2'
hp_hold w1 two
hp_until 5000 hp_field_is two waiters 1
hp_hold w2 two
ok "two waiters queued" hp_until 5000 hp_field_is two waiters 2
kill -TERM "$HOLD_f1"
ok "the first waiter gets the first freed slot" hp_until 5000 hp_holds w1
ok "the second keeps waiting" hp_stays 300 eval '! hp_holds w2'
kill -TERM "$HOLD_f2"
ok "the second waiter gets the next one" hp_until 5000 hp_holds w2

# --- a waiter that disconnects (SIGKILL while waiting) loses nothing ---
hp_hold k1 two
ok "a third waiter queued" hp_until 5000 hp_field_is two waiters 1
kill -KILL "$HOLD_k1"
ok "the killed waiter disappears from the status" hp_until 5000 hp_field_is two waiters 0
kill -TERM "$HOLD_w1"
ok "the slot freed next is ready, not given to the dead waiter" hp_until 5000 hp_field_is two ready 1
hp_claim -n two true
is "$?" 0 "and a new -n claim gets it"
ok "no slot was granted twice (log)" hp_log_no_double_grant

done_testing
