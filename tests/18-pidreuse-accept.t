#!/bin/sh
# The holder's identity comes from the connection itself, never from a bare
# pid: a pid can be given to another process between the client's connect
# and the daemon's accept. Here holdingpend is stopped; a client connects,
# sends a claim, passes the connection to a child and exits; its pid goes
# to an innocent root process (through /proc/sys/kernel/ns_last_pid); then
# holdingpend goes on. Whether it grants the claim (to a holder it knows is
# gone) or denies it (reason=holder), the lease's expiry and careful kill
# never signal the innocent process, and no slot is lost.
# Run alone: it changes machine-wide state (the next pid), as 29-pidreuse does.
. "$(dirname "$0")/lib.sh"
hp_setup
test -w /proc/sys/kernel/ns_last_pid || skip_all "cannot choose the next pid (/proc/sys/kernel/ns_last_pid is not writable)"

hp_pool p 4M 1 expire=1 killdelay=1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)
probe=$(hp_probe hp-probe-hostile) || bail_out "cannot build hp-probe-hostile"
case $(hp_cmdline "$pid") in
  *holdingpend*) ;;
  *) bail_out "pid $pid is not holdingpend" ;;
esac

kill -STOP "$pid"
hp_at_exit "kill -CONT $pid 2>/dev/null || :"
"$probe" "$HP_SOCKET" claimfork p "$T/out" &
client=$!
wait "$client"
is "$?" 0 "the client connected, sent its claim, forked and exited while holdingpend was stopped"
child=$(sed -n 's/^child=//p' "$T/out")
like "$child" '^[0-9]+$' "its child keeps the connection"
hp_track "$child"
ok "the client is gone" hp_dead "$client"

# give the client's pid to an innocent root process; other forks on the machine may get there first: retry
innocent=
for try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 ; do
  echo $((client - 1)) > /proc/sys/kernel/ns_last_pid
  sleep 120 &
  p=$!
  if test "$p" = "$client" ; then innocent=$p ; break ; fi
  kill "$p" 2>/dev/null ; wait "$p" 2>/dev/null
done
if test -z "$innocent" ; then
  kill -CONT "$pid"
  skip_all "could not give pid $client to another process (the machine forks too much)"
fi
hp_track "$innocent"
pass "pid $client now belongs to an innocent root process"

kill -CONT "$pid"
ok "the claim is answered" hp_until 5000 grep -q '^answer=' "$T/out"
answer=$(sed -n 's/^answer=//p' "$T/out")
note "the claim was answered $answer"
case $answer in
  0)
    pass "granted: to a holder the daemon must know is gone"
    ok "the lease expires and ends" hp_until 6000 hp_log_kv_has event=end pool=p ;;
  1)
    pass "denied"
    ok "log: event=deny pool=p reason=holder" hp_log_kv_has event=deny pool=p reason=holder ;;
  *)
    fail "answered $answer: neither granted nor denied" ;;
esac
ok "the innocent process is never signalled (expiry and three kill delays)" hp_stays 4000 hp_alive "$innocent"
is "$(hp_log_kv_count event=kill "pid=$client" sent=yes)" 0 "no signal to pid $client was logged as sent"
ok "no slot is lost: ready=1" hp_until 5000 hp_field_is p ready 1
kill "$child" 2>/dev/null
ok "still ready=1 once the child is gone" hp_until 3000 hp_field_is p ready 1
is "$(hp_daemon_pid)" "$pid" "the daemon is the same process"
kill "$innocent" 2>/dev/null
done_testing
