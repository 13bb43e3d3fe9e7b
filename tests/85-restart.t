#!/bin/sh
# Leases and reservations outlive the broker (holdingpend -f, an
# s6-fdholderd beside it): after SIGKILL or s6-svc -r, the same leases are
# held (ids, holders, expiry), ready slots are ready without being
# reserved again (Shmem never rises by more than one slot), a release
# after the restart scrubs and returns the slot, and nothing is handed out
# twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"

MB=1048576
hp_pool m 16M 4
hpf_fdholder
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER"
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up || bail_out "the daemon did not become ready"
reader=$(hp_probe hp-probe-read) || bail_out "cannot build hp-probe-read"

hp_hold a m
hp_hold b m
ok "two holders" hp_until 5000 eval 'hp_holds a && hp_holds b'
is "$(hp_field m held)" 2 "status: held=2"
leases0=$(hpf_leases)
note "$leases0"
is "$(printf '%s\n' "$leases0" | grep -c .)" 2 "two lease records"

# one restart: KILL or TERM (s6-svc -r); Shmem sampled all along
restart() {
  base=$(hp_shmem)
  pid=$(hp_daemon_pid)
  ( while : ; do hp_shmem ; sleep 0.02 ; done ) > "$T/shmem.$1" &
  sampler=$!
  hp_track "$sampler"
  if test "$1" = kill ; then kill -KILL "$pid" ; else s6-svc -r "$HP_SVC" ; fi
  hpf_wait_restart "$pid"
  r=$?
  sleep 0.3
  kill "$sampler" ; wait "$sampler" 2>/dev/null
  peak=$(sort -n "$T/shmem.$1" | tail -n 1)
  return $r
}

for how in kill term ; do
  restart "$how"
  is "$?" 0 "$how: a new holdingpend is up and ready"
  note "$how: Shmem before $base, peak during the restart $peak"
  cmp_ok $((peak - base)) -le $((16 * MB + $(hp_shmem_slack))) "$how: Shmem never rose by more than one slot"
  is "$(hpf_leases)" "$leases0" "$how: status lists the same leases (ids, pool, slot, uid, gid, pid, expiry)"
  ok "$how: the log says what was taken back" hp_log_has 'event=restore leases=2 slots=4'
  is "$(hp_field m ready)" 2 "$how: the two free slots are ready"
  is "$(hp_field m held)" 2 "$how: held=2"
done

# four -n claims that hold now: two can be granted, not four
for i in 1 2 3 4 ; do hp_hold "c$i" -n m ; done
sleep 1
granted=0
for i in 1 2 3 4 ; do hp_holds "c$i" && granted=$((granted + 1)) ; done
is "$granted" 2 "of four -n claims after the restarts, exactly two are granted"
for i in 1 2 3 4 ; do eval "kill \$HOLD_c$i" 2> /dev/null ; done
ok "their slots come back" hp_until 5000 hp_field_is m ready 2

# a held slot still scrubs at lease end, and goes to the next claim
slot_a=$(hp_status | sed -n "s/^lease=$(hp_lease a) .* slot=\([0-9]*\) .*/\1/p")
kill "$HOLD_a"
ok "a's release after the restarts ends its lease" hp_until 5000 hp_log_kv_has event=release lease="$(hp_lease a)"
ok "its slot is ready again" hp_until 5000 hp_field_is m ready 3
out=$(hp_claim -n m "$reader" 2>&1)
like "$out" " nonzero=0 " "the next holder reads zeros"
# a claim waiting at the restart: granted after it, within its deadline,
# once a slot is free (the leases held across the restart still hold theirs)
hp_until 5000 hp_field_is m ready 3
for i in 1 2 3 ; do hp_hold "f$i" m ; done
ok "every slot is held" hp_until 5000 eval 'hp_holds f1 && hp_holds f2 && hp_holds f3 && hp_field_is m ready 0'
hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -t 20000 m sh -c 'echo granted > "$1"' sh "$T/waiter"
waiter=$HP_BG_PID
ok "a claim waits" hp_until 5000 eval 'test "$(hp_field m waiters)" = 1'
pid=$(hp_daemon_pid)
kill -KILL "$pid"
hpf_wait_restart "$pid"
is "$?" 0 "a new holdingpend is up"
ok "the waiting claim is still waiting, not failed" hp_stays 1000 eval '! test -e "$T/waiter" && hp_alive "$waiter"'
is "$(hp_field m held)" 4 "the four leases are still held: nothing for the waiter yet"
kill "$HOLD_f1"
ok "once a slot is released, the waiting claim is granted" hp_until 10000 test -s "$T/waiter"
ok "no slot was granted twice (log)" hp_log_no_double_grant
note "slot of a: $slot_a"
done_testing
