#!/bin/sh
# A client that sends garbage or disconnects mid-message gets an error answer
# or is dropped; the daemon goes on (same pid, same fd count), keeps serving
# claims, and a client holding a lease meanwhile keeps it. A client that
# stays silent in the middle of a message does not block anyone.
. "$(dirname "$0")/lib.sh"

hp_pool g 8M 2
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
client=$(hp_probe hp-probe-client) || bail_out "cannot build hp-probe-client"
pid=$(hp_daemon_pid)

# a bystander holding a lease throughout
hp_hold by g
hp_until 5000 hp_holds by || bail_out "the bystander got no slot"
bylease=$(hp_lease by)
hp_until 5000 hp_field_is g ready 1
fd0=$(hp_fd_count "$pid")
note "daemon fds with one lease held: $fd0"

# (not -n: the slot of the previous claim may still be scrubbing)
serves() {
  hp_claim -t 5000 g true
}

# garbage MODE [ARGS]: send it, check the answer is an error (100) or a drop,
# and that the connection is closed.
garbage() {
  _m=$1
  out=$("$client" -t 5000 "$HP_SOCKET" "$@")
  _rc=$?
  is "$_rc" 0 "$_m: the probe connected and sent"
  _a=$(printf '%s\n' "$out" | sed -n 's/^answer=\([^ ]*\).*/\1/p')
  like "$_a" '^(100|eof|reset)$' "$_m: answered 100 or dropped (got: ${_a:-nothing})"
  case $_a in
    100|eof|reset) like "$out" '^closed=1$' "$_m: the connection is closed afterwards (within 5 s)" ;;
    *) fail "$_m: the connection is closed afterwards" ;;
  esac
  is "$(hp_daemon_pid)" "$pid" "$_m: the daemon is the same process"
  ok "$_m: the daemon still serves a claim" serves
}

garbage junk
garbage noise
garbage empty
garbage unknown
garbage claim-short
garbage claim-nonul g
garbage revoke-short
garbage fdflood

# disconnects in the middle of a message
for m in shorthead shortbody hugelen ; do
  out=$("$client" "$HP_SOCKET" $m)
  is "$out" "answer=skipped" "$m: sent and hung up"
  is "$(hp_daemon_pid)" "$pid" "$m: the daemon is the same process"
  ok "$m: the daemon still serves a claim" serves
done

# a claim with an unrequested fd attached: answered (granted or refused), never kept
out=$("$client" "$HP_SOCKET" claim-with-fd g)
like "$out" '^answer=(0|100|eof|reset)( |$)' "claim with an fd attached: granted or refused"
ok "the daemon still serves a claim" serves

# waiters that hang up: a claim that waits on a full pool, then disconnects
hp_hold by2 g
hp_until 5000 hp_holds by2
out=$("$client" -t 300 "$HP_SOCKET" claim g)
is "$out" "answer=none" "a claim on a full pool waits (no answer within 0.3 s), then the client hangs up"
ok "the daemon drops that waiter" hp_until 5000 hp_field_is g waiters 0
kill -TERM "$HOLD_by2"
ok "the freed slot is ready, not lost to the departed waiter" hp_until 5000 hp_field_is g ready 1

# slow clients: silent in the middle of a header, they block nobody
for i in 1 2 3 4 5 ; do
  "$client" "$HP_SOCKET" hold-shorthead 10 < /dev/null > /dev/null 2>&1 &
  hp_track $!
done
sleep 0.2
t0=$(hp_now_ms)
hp_claim -n g true
rc=$?
dt=$(($(hp_now_ms) - t0))
is "$rc" 0 "with 5 clients stuck mid-header, a claim is served"
cmp_ok "$dt" -lt 3000 "promptly ($dt ms)"
out=$(hp_status g)
like "$out" "^pool=g " "and so is a status request"

# everything above left the daemon as it was
is "$(hp_daemon_pid)" "$pid" "the daemon never restarted"
ok "the bystander still holds its lease" hp_alive "$HOLD_by"
like "$(hp_status g)" "^lease=$bylease pool=g " "and its lease is still listed"
ok "log: client-error lines for the garbage" hp_log_kv_has event=client-error
# the stuck clients hang up after 10 s; then the fds are as before
ok "the daemon's fd count returns to $fd0 when the slow clients are gone" hp_until 20000 eval 'test "$(hp_fd_count "$pid")" -eq "$fd0"'
note "daemon fds at the end: $(hp_fd_count "$pid")"
ok "log: no slot granted twice" hp_log_no_double_grant

done_testing
