#!/bin/sh
# A bad day: holdingpend restarts (SIGKILL) while its fd holder is stopped.
#  a. The fd holder is stopped while a few dozen claims come and go on a
#     pool o (each one queues a few requests for the fd holder), then A
#     claims the one slot of pool m and writes a token into it; holdingpend
#     is SIGKILLed, and the fd holder continues while the next
#     holdingpend waits for what it keeps.
#  b. The same, with no churn, and the fd holder continues only after the
#     next holdingpend has given up waiting for it (2 s).
# A's lease is held again if the fd holder did all that was in the socket
# when holdingpend died, which s6-fdholderd 2.11 does not promise (then a
# claim on m is refused as busy while A holds it); whatever happens, no
# claim may get A's memfd (same inode) nor read A's bytes: a resource
# handed out is marked and never taken back for a ready one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"

command -v s6-fdholder-list > /dev/null 2>&1 || skip_all "s6-fdholder-list is not installed"
hp_pool m 1M 1
hp_pool o 1M 1
hpf_fdholder
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER"
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up || bail_out "the daemon did not become ready"
ok "the pools are ready" hp_until 10000 eval 'hp_field_is m ready 1 && hp_field_is o ready 1'
soak=$(hp_probe hp-probe-soak) || bail_out "cannot build hp-probe-soak"
siglog=$(hp_probe hp-probe-siglog) || bail_out "cannot build hp-probe-siglog"

# the inode of the resource a running holder got, from its grant line
inode_of() {
  awk -v l="$1" '$1 == "grant" { print $4 }' "$T/rec.$2" | tail -n 1
}

# run_case NAME CHURN WHEN: WHEN is "during" (SIGCONT 0.3 s after the next
# holdingpend started) or "after" (3 s after)
run_case() {
  _rc_name=$1
  hpf_signal_fdholder STOP || bail_out "cannot stop the fd holder"
  _rc_i=0
  while test "$_rc_i" -lt "$2" ; do
    hp_claim -n o true 2> /dev/null
    _rc_i=$((_rc_i + 1))
  done
  hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -n m "$siglog" "$T/rec.$_rc_name" 60 holder
  _rc_holder=$HP_BG_PID
  hp_until 5000 grep -q '^grant' "$T/rec.$_rc_name"
  ok "$_rc_name: A holds m's slot" grep -q '^grant' "$T/rec.$_rc_name"
  _rc_lease=$(awk '$1 == "grant" { print $2 }' "$T/rec.$_rc_name")
  _rc_ino=$(awk '$1 == "grant" { print $4 }' "$T/rec.$_rc_name")
  _rc_pid=$(hp_daemon_pid)
  hpf_daemon_signal KILL
  hp_until 10000 eval '_rc_p=$(hp_daemon_pid) && test "$_rc_p" != "$_rc_pid" && hpf__is_comm "$_rc_p" holdingpend'
  if test "$3" = during ; then sleep 0.3 ; else sleep 3 ; fi
  hpf_signal_fdholder CONT
  hp_wait_up 20000
  is "$?" 0 "$_rc_name: a new holdingpend is up"
  # A's lease comes back only if the fd holder did what was in the
  # socket; s6-fdholderd 2.11 drops a dead sender's requests past the ~128
  # it reads a turn, and a restore that waits 2 s for a stopped one gives
  # up: then A's lease is lost (doc/holdingpend.html says so), and what
  # must hold whatever happens is below: nobody gets A's memfd or bytes.
  if hpf_leases | grep -q "^lease=$_rc_lease " ; then _rc_back=yes ; else _rc_back=no ; fi
  note "$_rc_name: A's lease $_rc_lease held again: $_rc_back"
  _rc_out=$(timeout -s KILL 20 "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -n m sh -c 'echo "ino=$(stat -L -c %i /proc/self/fd/$HOLDINGPEN_FD)" ; exec "$1"' sh "$(hp_probe hp-probe-read)" 2>&1)
  _rc_rc=$?
  note "$_rc_name: a claim on m: rc=$_rc_rc $_rc_out (A's inode $_rc_ino)"
  if test "$_rc_back" = yes ; then
    isnt "$_rc_rc" 0 "$_rc_name: A's lease is back: a claim on m is not granted while A holds its only slot"
  else
    is "$_rc_rc" 0 "$_rc_name: A's lease is lost: m's slot is reserved anew, and granted"
  fi
  unlike "$_rc_out" "ino=$_rc_ino\$" "$_rc_name: no claim gets A's memfd"
  unlike "$_rc_out" "nonzero=[1-9]" "$_rc_name: no claim reads A's bytes"
  ok "$_rc_name: A is still there" hp_alive "$_rc_holder"
  kill "$_rc_holder"
  ok "$_rc_name: A never found its token overwritten" eval '! grep -q "^lost" "$T/rec.$_rc_name"'
  ok "$_rc_name: m's slot is ready again" hp_until 10000 hp_field_is m ready 1
}

run_case a 40 during
run_case b 0 after
done_testing
