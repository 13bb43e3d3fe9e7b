#!/bin/sh
# A waiting claim outlives a restart of the broker: when holdingpend goes
# away while a claim waits (s6-svc -r, SIGKILL and s6-supervise's restart,
# a broker down for a while with its socket gone), holdingpen-claim connects
# again and claims again, and is granted once a slot is free, within its own
# deadline. A claim whose broker stays down gives up with 99 at its deadline,
# not at once; a broker that is down when a claim with -n starts is a
# failure. On a terminal, the waiting line is printed once, not again after a restart.
#
# A new broker may or may not know the leases of the old one: the holder is
# released after each restart, so that the waiting claim is granted either
# way; what is checked is that it is granted, and did not fail at the restart.
. "$(dirname "$0")/lib.sh"

hp_pool one 1M 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

# new_broker_up OLDPID: a broker with another pid is up and ready.
new_broker_up() {
  _nbu=$(hp_daemon_pid)
  test -n "$_nbu" && test "$_nbu" != "$1" && s6-svwait -U -t 100 "$HP_SVC" > /dev/null 2>&1
}

# restart_broker r|kill: restarts the broker, with s6-svc -r or with SIGKILL
# to its pid (checked to be holdingpend first), then waits until the next
# one is up and ready. Sets RESTART_MS to the time of the restart.
restart_broker() {
  _rb_pid=$(hp_daemon_pid) || bail_out "no broker to restart"
  hp_helper_pids "$_rb_pid" > /dev/null
  RESTART_MS=$(hp_now_ms)
  case $1 in
    r) s6-svc -r "$HP_SVC" ;;
    kill)
      case $(hp_cmdline "$_rb_pid") in
        *holdingpend*) kill -KILL "$_rb_pid" ;;
        *) bail_out "pid $_rb_pid is not holdingpend" ;;
      esac ;;
  esac
  hp_until 15000 new_broker_up "$_rb_pid" || bail_out "the broker did not come back"
  hp_daemon_pid > /dev/null
}

# release NAME: ends the lease of the holder NAME (its pid, checked to be
# the holder's sleep, gets SIGTERM) and waits until it is gone.
release() {
  eval "_rl_pid=\$HOLD_$1"
  case $(hp_cmdline "$_rl_pid") in
    sleep*) kill -TERM "$_rl_pid" ; hp_until 5000 hp_dead "$_rl_pid" ;;
    *) diag "holder $1 ($_rl_pid) is not holding: $(hp_cmdline "$_rl_pid")" ; return 1 ;;
  esac
}

# waits_through NAME HOW OLDHOLDER: NAME is a claim with -t 20000 waiting
# behind OLDHOLDER; the broker restarts (HOW), then OLDHOLDER is released:
# NAME must be granted, after the restart, before its deadline.
waits_through() {
  _wt_t0=$(hp_now_ms)
  hp_hold "$1" -t 20000 one
  eval "_wt_pid=\$HOLD_$1"
  ok "$2: the claim waits" hp_until 5000 hp_field_is one waiters 1
  ok "$2: it is not granted while the slot is held" hp_stays 300 eval "! hp_holds $1"
  restart_broker "$2"
  ok "$2: the claim did not fail when the broker went away" hp_stays 1000 hp_alive "$_wt_pid"
  release "$3"
  ok "$2: once the slot is free, the waiting claim is granted" hp_until 10000 hp_holds "$1"
  if hp_holds "$1" ; then
    _wt_at=$(cat "$T/$1.t")
    cmp_ok "$_wt_at" -ge "$RESTART_MS" "$2: granted after the restart"
    cmp_ok "$((_wt_at - _wt_t0))" -le 20000 "$2: granted within its deadline ($((_wt_at - _wt_t0)) ms)"
  else
    fail "$2: granted after the restart"
    fail "$2: granted within its deadline"
  fi
  is "$(cat "$T/$1.out")" "" "$2: the claim printed nothing"
}

hp_hold h one
hp_until 5000 hp_holds h || bail_out "the first holder did not get the slot"

# --- s6-svc -r, then SIGKILL ---
waits_through w1 r h
waits_through w2 kill w1

# --- the broker is down for a while, its socket gone, then comes back ---
hp_hold w3 -t 20000 one
ok "down: the claim waits" hp_until 5000 hp_field_is one waiters 1
ok "down: the broker goes down" hp_svc_down
rm -f "$HP_SOCKET"
ok "down: the claim keeps trying while the socket is gone" hp_stays 2000 hp_alive "$HOLD_w3"
ok "down: the broker comes back" hp_svc_up
release w2
ok "down: the waiting claim is granted" hp_until 10000 hp_holds w3

# --- the broker stays down: 99 at the deadline, not at once ---
hp_until 5000 hp_field_is one held 1
t0=$(hp_now_ms)
hp_hold late -t 3000 one
ok "deadline: a claim with -t 3000 waits" hp_until 2000 hp_field_is one waiters 1
hp_svc_down
tdown=$(hp_now_ms)
# bounded: a claim that was granted after all runs "sleep 1000"
if hp_until 10000 hp_dead "$HOLD_late" ; then
  wait "$HOLD_late"
  rc=$?
else
  rc="still running"
fi
t1=$(hp_now_ms)
is "$rc" 99 "deadline: the broker stays down: exit 99"
note "down $((tdown - t0)) ms after the claim started, which gave up $((t1 - t0)) ms after it started"
cmp_ok "$((t1 - tdown))" -ge 500 "deadline: it did not give up when the broker went away"
cmp_ok "$((t1 - t0))" -ge 2980 "deadline: not before its deadline"
cmp_ok "$((t1 - t0))" -le 4500 "deadline: not long after it"
is "$(wc -l < "$T/late.out" | tr -d ' ')" 1 "deadline: one line on stderr"
like "$(cat "$T/late.out")" '^holdingpen-claim: fatal: pool one: no free slot before the deadline' "deadline: it says why"
ok "deadline: the program was not run" test ! -e "$T/late.t"

# --- the broker down when a claim that does not wait starts: no retry
# (a claim with a deadline waits for it: 84-claim-connect) ---
hp_claim -n one true 2> "$T/err"
is "$?" 111 "a broker down when a claim with -n starts: 111 at once"

# --- on a terminal: the waiting line once, not again after a restart ---
hp_svc_up || bail_out "the broker did not come back"
release w3
if command -v script > /dev/null 2>&1 ; then
  hp_hold h2 one
  hp_until 5000 hp_holds h2 || bail_out "the holder did not get the slot"
  cmd="exec timeout -s KILL 60 $(hp__quote "$HP_BUILD/holdingpen-claim") -s $(hp__quote "$HP_SOCKET") -t 20000 one echo granted"
  script -qefc "$cmd" /dev/null < /dev/null > "$T/tty.raw" 2>&1 &
  ttypid=$!
  hp_track "$ttypid"
  ok "tty: the claim waits" hp_until 5000 hp_field_is one waiters 1
  ok "tty: the waiting line comes" hp_until 2500 grep -q 'waiting' "$T/tty.raw"
  restart_broker r
  sleep 1.5
  release h2
  wait "$ttypid"
  out=$(tr -d '\r' < "$T/tty.raw")
  is "$(printf '%s\n' "$out" | sed -n 1p)" "holdingpen-claim: info: waiting for a free slot of pool one (gives up in 19 seconds)" "tty: the waiting line"
  is "$(printf '%s\n' "$out" | sed -n 2p)" "granted" "tty: granted after the restart, the program runs"
  is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 2 "tty: nothing else was printed"
else
  skip "script (util-linux) is not installed" 5
fi

done_testing
