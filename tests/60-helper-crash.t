#!/bin/sh
# A helper killed with SIGKILL is reaped, logged and respawned; its slot
# comes back; no slot is ever handed out twice, whether the helper dies with
# its slot ready or held. Checked via the log (grant/release pairs) and by
# holding every slot at once: exactly count claims succeed with -n, the next
# one gets 5.
. "$(dirname "$0")/lib.sh"

hp_pool trio 8M 3
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)
helpers0=$(hp_helper_pids "$pid")
is "$(echo $helpers0 | wc -w | tr -d ' ')" 3 "three helpers, one per slot"

# all_held_with_n PREFIX: claims with -n until one fails; checks exactly 3
# succeed and the 4th gets 5. The holders stay; their pids are in $held.
all_held_with_n() {
  held=
  for i in 1 2 3 ; do
    hp_hold "$1$i" -n trio
    held="$held $HP_HOLD_PID"
    # sequential: each claim is answered before the next is made
    hp_until 5000 eval "hp_holds $1$i || ! hp_alive $HP_HOLD_PID"
  done
  n=0
  for i in 1 2 3 ; do hp_holds "$1$i" && n=$((n + 1)) ; done
  is "$n" 3 "$2: all 3 claims with -n succeed"
  hp_claim -n trio touch "$T/ran" > /dev/null 2>&1
  is "$?" 5 "$2: the 4th claim with -n gets 5"
  ok "$2: its prog did not run" test ! -e "$T/ran"
}

# helpers_replaced OLDPIDS: 3 live helpers, none of them in OLDPIDS.
helpers_replaced() {
  _now=$(hp_helper_pids "$pid")
  test "$(echo $_now | wc -w)" -eq 3 || return 1
  for _o in $1 ; do
    case " $(echo $_now) " in *" $_o "*) return 1 ;; esac
  done
  return 0
}

# --- a helper of a ready slot ---
victim=$(echo $helpers0 | cut -d' ' -f1)
crash0=$(hp_log_kv_count event=helper-crash)
spawn0=$(hp_log_count 'event=helper-spawn( |$)')
kill -KILL "$victim"
ok "log: event=helper-crash after SIGKILL of a helper" hp_until 5000 eval 'test $(hp_log_kv_count event=helper-crash) -gt $crash0'
ok "the helper is respawned (3 helpers again, the dead one gone)" hp_until 5000 helpers_replaced "$victim"
ok "log: event=helper-spawn for the new helper" hp_until 5000 eval 'test $(hp_log_count "event=helper-spawn( |\$)") -gt $spawn0'
ok "the slot comes back: ready=3" hp_until 5000 hp_field_is trio ready 3
is "$(hp_daemon_pid)" "$pid" "the daemon itself did not restart"
all_held_with_n a "after a helper crash"
ok "log: no slot granted twice" hp_log_no_double_grant

# --- every helper killed while every slot is held ---
# The holders keep their leases; whether a new helper starts at once or when
# the lease ends is the daemon's choice, but no slot may be offered again
# while its lease lives.
helpers1=$(hp_helper_pids "$pid")
held_a=$held
crash1=$(hp_log_kv_count event=helper-crash)
for h in $helpers1 ; do kill -KILL "$h" ; done
ok "log: three more helper-crash lines" hp_until 5000 eval 'test $(hp_log_kv_count event=helper-crash) -ge $((crash1 + 3))'
ok "the three leases are still held" hp_stays 1000 hp_field_is trio held 3
is "$(hp_field trio ready)" 0 "no slot is offered again while its lease lives: ready=0"
hp_claim -n trio touch "$T/ran" > /dev/null 2>&1
is "$?" 5 "a -n claim gets 5 while the three leases live"
alive=0
for p in $held_a ; do hp_alive "$p" && alive=$((alive + 1)) ; done
is "$alive" 3 "the holders were not killed"
kill -TERM $held_a
ok "when the holders exit, all slots come back: ready=3" hp_until 5000 hp_field_is trio ready 3
is "$(hp_field trio held)" 0 "held=0"
ok "three live helpers, none of the killed ones" hp_until 5000 helpers_replaced "$helpers1"
all_held_with_n b "after every helper crashed under held slots"
kill -TERM $held
ok "ready=3 at the end" hp_until 5000 hp_field_is trio ready 3

# --- a helper killed again and again ---
good=0
for round in 1 2 3 ; do
  hs=$(hp_helper_pids "$pid")
  v=$(echo $hs | cut -d' ' -f1)
  kill -KILL "$v"
  hp_until 5000 helpers_replaced "$v" || break
  hp_until 5000 hp_field_is trio ready 3 || break
  good=$((good + 1))
done
is "$good" 3 "three crashes in a row: each time respawned and ready"
is "$(hp_field trio ready)" 3 "ready=3"
all_held_with_n c "after repeated crashes"
kill -TERM $held

ok "log: no slot granted twice over the whole run" hp_log_no_double_grant
is "$(hp_daemon_pid)" "$pid" "the daemon is the same process throughout"

done_testing
