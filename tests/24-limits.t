#!/bin/sh
# maxperuid: a uid at its limit of live leases is refused with 4 at once,
# another uid is not; the limit is on live leases, not on claims. The queue
# of a full pool: waiters are served in arrival order; a waiter whose -t
# runs out exits 99 and leaves the queue; a waiter killed leaves it too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hpp_open_tmp

R=$T/rules
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hpp_rule "$R" uid/65534 HOLDINGPEN_CLAIM_REGEX=.*

hp_pool lim 1M 3 maxperuid=1
hp_pool one 1M 1
hp_start_supervised -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
is "$(hp_field lim maxperuid)" 1 "status: pool lim has maxperuid=1"

# --- maxperuid=1 ---
hp_hold a1 lim
ok "root holds one slot of lim" hp_until 5000 hp_holds a1
t0=$(hp_now_ms)
hp_claim lim touch "$T/ran" > "$T/out" 2> "$T/err"
rc=$?
dt=$(($(hp_now_ms) - t0))
is "$rc" 4 "a second concurrent claim by root: exit 4"
cmp_ok "$dt" -lt 3000 "at once, although free slots remain and no -n was given (took $dt ms)"
is "$(hpp_lines "$T/err")" 1 "one line on stderr"
like "$(cat "$T/err")" 'limit' "it says limit"
ok "prog was not run" test ! -e "$T/ran"
ok "log: event=deny pool=lim uid=0 reason=limit" hp_log_kv_has event=deny pool=lim uid=0 reason=limit
hp_claim -n lim true 2> /dev/null
is "$?" 4 "with -n: exit 4 too"
hp_claim -t 1000 lim true 2> /dev/null
is "$?" 4 "with -t 1000: exit 4 too"
is "$(hp_field lim ready)" 2 "status: the two other slots are still ready"

hp_hold -u "$HPP_NOBODY" n1 lim
ok "another uid (nobody) still gets a slot" hp_until 5000 hp_holds n1
hpp_claim_as "$HPP_NOBODY" lim true 2> /dev/null
is "$?" 4 "and is limited in turn: exit 4"

kill -TERM "$HOLD_a1"
ok "root's lease ends" hp_until 5000 hp_field_is lim held 1
hp_claim lim true
is "$?" 0 "once it has ended, root may claim again"
kill -TERM "$HOLD_n1"

# --- FIFO: three waiters on a one-slot pool ---
hp_hold h one
ok "the one slot of pool one is held" hp_until 5000 hp_holds h
: > "$T/order"
n=0
for w in w1 w2 w3 ; do
  n=$((n + 1))
  hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" one sh -c 'echo "$0" >> "$1" ; sleep 0.2' "$w" "$T/order"
  ok "$w is queued ($n waiters)" hp_until 5000 hp_field_is one waiters $n
  sleep 0.2
done
hp_status one | grep '^waiter=' > "$T/waiters"
is "$(hpp_lines "$T/waiters")" 3 "status: three waiter records"
is "$(awk '{ print $1 }' "$T/waiters" | sed 's/waiter=//' | sort -n | uniq | wc -l | tr -d ' ')" 3 "with distinct sequence numbers"
kill -TERM "$HOLD_h"
ok "the three are served" hp_until 10000 eval 'test "$(hpp_lines "$T/order")" -eq 3'
is "$(tr '\n' ' ' < "$T/order")" "w1 w2 w3 " "in arrival order"
ok "pool one is free again" hp_until 5000 hp_field_is one ready 1

# --- a waiter with -t 500 gives up with 99 and leaves the queue ---
hp_hold h one
ok "pool one is held again" hp_until 5000 hp_holds h
t0=$(hp_now_ms)
hp_claim -t 500 one touch "$T/ran" 2> "$T/err"
rc=$?
dt=$(($(hp_now_ms) - t0))
is "$rc" 99 "-t 500 on a full pool: exit 99"
cmp_ok "$dt" -ge 480 "not before 500 ms (took $dt ms)"
cmp_ok "$dt" -lt 5000 "not long after"
is "$(hpp_lines "$T/err")" 1 "one line on stderr"
ok "prog was not run" test ! -e "$T/ran"
ok "log: event=timeout pool=one" hp_log_kv_has event=timeout pool=one uid=0
is "$(hp_field one waiters)" 0 "status: waiters=0 afterwards"

# --- a waiter that is killed leaves the queue ---
hp_hold k one
ok "a waiter is queued" hp_until 5000 hp_field_is one waiters 1
kpid=$HOLD_k
kill -KILL "$kpid"
ok "once killed, it leaves the queue: waiters=0" hp_until 5000 hp_field_is one waiters 0
ok "log: event=leave pool=one with its pid" hp_log_kv_has event=leave pool=one "pid=$kpid"
kill -TERM "$HOLD_h"
ok "the freed slot is not given to the dead waiter: ready=1" hp_until 5000 hp_field_is one ready 1
is "$(hp_log_kv_count event=grant "pid=$kpid")" 0 "log: no grant to the killed waiter"
ok "no slot was granted twice (log)" hp_log_no_double_grant

done_testing
