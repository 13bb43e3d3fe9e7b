#!/bin/sh
# The fd holder stopped (SIGSTOP) for 10 s while claims, status and
# releases go on: every claim is granted within a second, every status
# answered within a second, nothing is handed out twice (each holder
# writes a token into its slot and finds it when it leaves; a slot
# received is all zeros); once the fd holder runs again (SIGCONT), within
# a few seconds every live lease has its three records (lease, held,
# pidfd) in the fd holder; then a SIGKILL of holdingpend brings the same
# leases back, no slot in two of them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"

command -v s6-fdholder-list > /dev/null 2>&1 || skip_all "s6-fdholder-list is not installed"
hp_pool m 1M 6
hpf_fdholder
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER"
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up || bail_out "the daemon did not become ready"
ok "the pool is ready" hp_until 10000 hp_field_is m ready 6

hp_hold a m
ok "a holds a slot before the stop" hp_until 5000 hp_holds a
ok "a's records are kept" hp_until 5000 eval 'test "$(hpf_records_of "$(hp_lease a)")" = "lease held pidfd"'

hpf_signal_fdholder STOP || bail_out "cannot stop the fd holder"
ok "the fd holder is stopped" hp_until 2000 eval 'grep -q "^State:.*T" "/proc/$(hpf_fdholder_pid)/status"'
t0=$(hp_now_ms)
hpf_loop_start l1 m 150
hpf_loop_start l2 m 300
hp_hold b m
# status, one after the other: each within a second
: > "$T/status.ms"
while test $(($(hp_now_ms) - t0)) -lt 10000 ; do
  s0=$(hp_now_ms)
  hp_status > /dev/null 2>&1
  echo "$? $(($(hp_now_ms) - s0))" >> "$T/status.ms"
  sleep 0.2
done
ok "b was granted while the fd holder was stopped" hp_holds b
hpf_loops_stop
nstatus=$(wc -l < "$T/status.ms" | tr -d ' ')
is "$(awk '$1 != 0 || $2 > 1000' "$T/status.ms" | wc -l | tr -d ' ')" 0 "every status answered within a second while stopped ($nstatus)"
grep -q "^State:.*T" "/proc/$(hpf_fdholder_pid)/status"
is "$?" 0 "the fd holder was still stopped all along"
note "claims while stopped: $(cat "$T"/rec.* | grep -c '^done') ($(hpf_rec_check))"
is "$(hpf_rec_check)" "dirty 0 lost 0 failed 0 slow 0" "every claim granted within a second, all zeros, no token lost"
cmp_ok "$(cat "$T"/rec.* | grep -c '^grant')" -ge 20 "at least 20 claims granted and released while stopped"
ok "the slots came back ready while stopped" hp_until 5000 hp_field_is m ready 4

hpf_signal_fdholder CONT
tc=$(hp_now_ms)
ok "within 5 s of SIGCONT, every live lease's records are kept" hp_until 5000 hpf_all_kept
note "kept after $(($(hp_now_ms) - tc)) ms: a: $(hpf_records_of "$(hp_lease a)"), b: $(hpf_records_of "$(hp_lease b)")"
leases0=$(hpf_leases)
is "$(printf '%s\n' "$leases0" | grep -c .)" 2 "two leases: a and b"

pid=$(hp_daemon_pid)
hpf_daemon_signal KILL
hpf_wait_restart "$pid"
is "$?" 0 "after SIGKILL, a new holdingpend is up"
is "$(hpf_leases)" "$leases0" "the same leases are held"
ok "no slot in two leases" hpf_no_slot_twice
ok "the four other slots are ready" hp_until 5000 hp_field_is m ready 4
reader=$(hp_probe hp-probe-read)
for i in 1 2 3 4 ; do
  out=$(hp_claim -n m "$reader" 2>&1)
  like "$out" " nonzero=0 " "claim $i after the restart reads zeros"
done
ok "no slot was granted twice (log)" hp_log_no_double_grant
done_testing
