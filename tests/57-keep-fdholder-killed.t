#!/bin/sh
# The fd holder killed (SIGKILL; its supervisor starts it again, empty)
# while leases are held: holdingpend notices, and once the fd holder is
# back it keeps everything again (every live lease's lease, held and
# pidfd records, the ready slots, the listening socket) within a few
# seconds; then a SIGKILL of holdingpend brings the same leases back, no
# slot in two of them, and the slots that were ready are ready.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"

command -v s6-fdholder-list > /dev/null 2>&1 || skip_all "s6-fdholder-list is not installed"
hp_pool m 1M 5
hpf_fdholder
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER"
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up || bail_out "the daemon did not become ready"
ok "the pool is ready" hp_until 10000 hp_field_is m ready 5

for n in a b c ; do hp_hold "$n" m ; done
ok "three holders" hp_until 5000 eval 'hp_holds a && hp_holds b && hp_holds c'
ok "their records are kept" hp_until 5000 hpf_all_kept
leases0=$(hpf_leases)

for round in 1 2 ; do
  fdh=$(hpf_fdholder_pid) || bail_out "no fd holder"
  said=$(hp_log_count 'fd holder')
  hpf_signal_fdholder KILL
  ok "$round: the fd holder is started again" hp_until 10000 eval 'p=$(hpf_fdholder_pid) && test "$p" != "$fdh"'
  ok "$round: holdingpend noticed (log)" hp_until 5000 eval 'test "$(hp_log_count "fd holder")" -gt "$said"'
  t0=$(hp_now_ms)
  ok "$round: within 5 s every live lease's records are kept again" hp_until 5000 hpf_all_kept
  ok "$round: the two ready slots are kept again" hp_until 5000 eval 'test "$(s6-fdholder-list "$HPF_FDHOLDER" | grep -c "^holdingpen/slot/m/")" = 2'
  ok "$round: the listening socket is kept again" hp_until 5000 hpf_listen_kept
  note "$round: kept again after $(($(hp_now_ms) - t0)) ms"
  # a claim and a release meanwhile, as usual
  out=$(hp_claim -n m "$(hp_probe hp-probe-read)" 2>&1)
  like "$out" " nonzero=0 " "$round: a claim right after is granted, all zeros"
  ok "$round: its slot comes back" hp_until 5000 hp_field_is m ready 2
done

pid=$(hp_daemon_pid)
hpf_daemon_signal KILL
hpf_wait_restart "$pid"
is "$?" 0 "after SIGKILL, a new holdingpend is up"
is "$(hpf_leases)" "$leases0" "the same leases are held"
ok "no slot in two leases" hpf_no_slot_twice
ok "the log says what was taken back" hp_log_has 'event=restore leases=3 slots=5 '
is "$(hp_field m ready)" 2 "the two free slots are ready"
hp_claim -n m true ; hp_claim -n m true
is "$(hp_field m held)" 3 "held=3"
ok "no slot was granted twice (log)" hp_log_no_double_grant
done_testing
