#!/bin/sh
# The lease is the connection: SIGKILL of the holder ends it like an exit and
# the slot comes back; a child that inherited the lease keeps it, and the
# slot comes back only when the last copy is closed.
. "$(dirname "$0")/lib.sh"

hp_pool one 8M 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

# --- SIGKILL of a holder ---
hp_hold k one
ok "a holder gets the only slot" hp_until 5000 hp_holds k
is "$(hp_field one held)" 1 "status: held=1"
is "$(hp_field one ready)" 0 "status: ready=0"
like "$(hp_status one)" "(^| )lease=$(hp_lease k) pool=one .*pid=$HOLD_k( |\$)" "status lists the lease with the holder's pid"
lease=$(hp_lease k)
kill -KILL "$HOLD_k"
ok "after SIGKILL of the holder the slot is ready again" hp_until 5000 hp_field_is one ready 1
is "$(hp_field one held)" 0 "status: held=0"
ok "log: release of the killed holder's lease" hp_log_kv_has event=release pool=one "lease=$lease"
hp_claim -n one true
is "$?" 0 "a -n claim gets the slot back"

# --- a child inherits the lease; the holder exits ---
rm -f "$T/child.pid"
hp_claim one sh -c 'sleep 1000 < /dev/null > /dev/null 2>&1 & echo $! > "$1.tmp" && mv "$1.tmp" "$1" ; exit 0' sh "$T/child.pid"
is "$?" 0 "the holder exits 0, leaving a child that inherited the lease"
child=$(cat "$T/child.pid" 2>/dev/null)
hp_track $child
ok "the child is alive" hp_alive "$child"
ok "the slot stays held while the child lives" hp_stays 1000 hp_field_is one held 1
is "$(hp_field one ready)" 0 "status: ready=0"
hp_claim -n one touch "$T/ran" 2>/dev/null
is "$?" 5 "a -n claim meanwhile fails with 5"
ok "and its prog did not run" test ! -e "$T/ran"
kill -TERM "$child"
ok "when the child (the last copy) exits, the slot is ready again" hp_until 5000 hp_field_is one ready 1
hp_claim -n one true
is "$?" 0 "a -n claim gets it"

# --- several copies: the lease ends with the last one ---
rm -f "$T/c1.pid" "$T/c2.pid"
hp_claim one sh -c '
  sleep 1000 < /dev/null > /dev/null 2>&1 & echo $! > "$1.tmp" && mv "$1.tmp" "$1"
  sleep 1000 < /dev/null > /dev/null 2>&1 & echo $! > "$2.tmp" && mv "$2.tmp" "$2"
  exit 0' sh "$T/c1.pid" "$T/c2.pid"
c1=$(cat "$T/c1.pid") c2=$(cat "$T/c2.pid")
hp_track $c1 $c2
kill -KILL "$c1"
ok "SIGKILL of one of two children: still held" hp_stays 1000 hp_field_is one held 1
kill -KILL "$c2"
ok "SIGKILL of the last: ready again" hp_until 5000 hp_field_is one ready 1

# --- the holder closes HOLDINGPEN_LEASEFD to release early and goes on ---
# (sh can only close fds 0-9 by number; the test is skipped for a higher one)
"$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" one sh -c '
  case $HOLDINGPEN_LEASEFD in
    [0-9]) eval "exec $HOLDINGPEN_LEASEFD<&-" ; touch "$1.closed" ;;
    *) touch "$1.skip" ;;
  esac
  exec sleep 30' sh "$T/early" < /dev/null > /dev/null 2>&1 &
early=$!
hp_track $early
hp_until 5000 test -e "$T/early.closed" -o -e "$T/early.skip"
if test -e "$T/early.skip" ; then
  skip "HOLDINGPEN_LEASEFD is above 9, sh cannot close it"
elif test -e "$T/early.closed" ; then
  ok "closing HOLDINGPEN_LEASEFD ends the lease while the program runs" hp_until 5000 hp_field_is one ready 1
  ok "the program is still running" hp_alive "$early"
else
  fail "closing HOLDINGPEN_LEASEFD ends the lease while the program runs"
fi
kill -KILL $early 2>/dev/null

ok "no slot was granted twice (log)" hp_log_no_double_grant

done_testing
