#!/bin/sh
# The careful kill must reach the holder and nobody else. The holder starts
# a child that inherits the lease, and exits; its pid is then given to an
# innocent process (through /proc/sys/kernel/ns_last_pid). Revoking the
# lease must not signal the innocent one: holdingpend signals through a
# pidfd taken when the holder connected, which sees that the holder is gone.
. "$(dirname "$0")/lib.sh"
hp_setup
test -w /proc/sys/kernel/ns_last_pid || skip_all "cannot choose the next pid (/proc/sys/kernel/ns_last_pid is not writable)"

hp_pool p 4M 1 killdelay=1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" p sh -c 'sleep 120 & echo $! > "$1" ; exit 0' sh "$T/child"
holder=$HP_BG_PID
ok "the holder has started its child" hp_until 5000 test -s "$T/child"
child=$(cat "$T/child")
hp_track "$child"
ok "the holder has exited" hp_until 5000 hp_dead "$holder"
wait "$holder" 2>/dev/null
is "$(hp_field p held)" 1 "its child keeps the lease"
lease=$(hp_status | sed -n 's/^lease=\([0-9]*\) .*/\1/p' | head -n 1)
like "$lease" '^[0-9]+$' "the lease id is known"

# give the holder's pid to an innocent process; other forks on the machine may get there first: retry
innocent=
for try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 ; do
  echo $((holder - 1)) > /proc/sys/kernel/ns_last_pid
  sleep 120 &
  p=$!
  if test "$p" = "$holder" ; then innocent=$p ; break ; fi
  # KILL: a TERM caught between fork and exec would run the test's own trap in the child
  kill -KILL "$p" 2>/dev/null ; wait "$p" 2>/dev/null
done
test -n "$innocent" || skip_all "could not give pid $holder to another process (the machine forks too much)"
hp_track "$innocent"
pass "pid $holder now belongs to an innocent process"

"$HP_BUILD/holdingpen-revoke" -s "$HP_SOCKET" "$lease"
is "$?" 0 "the lease is revoked"
ok "the lease ends at once: the holder is gone" hp_until 1500 hp_log_kv_has event=end lease="$lease"
ok "and the slot is ready again" hp_until 5000 hp_field_is p ready 1
ok "the innocent process is never signalled (3 kill delays)" hp_stays 3000 hp_alive "$innocent"
is "$(hp_log_kv event=kill lease="$lease" | wc -l | tr -d ' ')" 0 "no kill step was logged for the lease"
kill "$innocent" "$child" 2>/dev/null
done_testing
