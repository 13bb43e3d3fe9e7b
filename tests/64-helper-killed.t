#!/bin/sh
# A helper killed by SIGKILL (what the OOM killer sends) is not respawned
# at once into the same squeeze: its slot waits a second first. A helper
# that dies otherwise comes back at once, as before.
. "$(dirname "$0")/lib.sh"

hp_pool k 1M 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)

respawn_ms() {
  old=$(hp_helper_pids "$pid")
  test -n "$old" || return 1
  t0=$(hp_now_ms)
  kill "-$1" "$old"
  hp_until 10000 eval 'test -n "$(hp_helper_pids "$pid")" && test "$(hp_helper_pids "$pid")" != "$old"' || return 1
  echo $(($(hp_now_ms) - t0))
}

ms=$(respawn_ms KILL)
note "helper killed by SIGKILL: a new one after $ms ms"
cmp_ok "${ms:-0}" -ge 900 "a helper killed by SIGKILL is respawned after about a second, not at once"
ok "the log says it was a crash by KILL" hp_log_kv_has event=helper-crash pool=k signal=KILL
ok "and the slot is ready again" hp_until 5000 hp_field_is k ready 1
ms=$(respawn_ms TERM)
note "helper killed by SIGTERM: a new one after $ms ms"
cmp_ok "${ms:-99999}" -lt 900 "a helper that dies of another signal comes back at once"
done_testing
