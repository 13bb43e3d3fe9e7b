#!/bin/sh
# Any fd that arrives with a request is closed at once and the request is
# answered 100 (bad request): a claim whose header says 0 fds but that
# carries 250 of them in SCM_RIGHTS is refused, grants nothing, and the
# daemon's fd table is back to what it was.
. "$(dirname "$0")/lib.sh"
hp_setup

hp_pool p 4M 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)
probe=$(hp_probe hp-probe-hostile) || bail_out "cannot build hp-probe-hostile"

# devnull: how many of the daemon's fds are /dev/null (what the probe sends)
devnull() {
  ls -l "/proc/$pid/fd" 2>/dev/null | grep -c ' /dev/null$'
}
fds0=$(hp_fd_count "$pid")
null0=$(devnull)
out=$("$probe" "$HP_SOCKET" fds p 250)
like "$out" '^answer=100 nfds=0$' "a claim carrying 250 undeclared fds is answered 100, with no fd"
like "$out" 'closed=1' "and the connection is closed"
ok "log: event=client-error reason=badrequest" hp_log_kv_has event=client-error reason=badrequest
is "$(hp_log_kv_count event=grant)" 0 "nothing was granted"
ok "the daemon's fd count is back to $fds0" hp_until 2000 eval 'test "$(hp_fd_count "$pid")" -eq "$fds0"'
note "fds of the daemon: $fds0 before, $(hp_fd_count "$pid") after"

# a few fds only, then many in a row: nothing accumulates
out=$("$probe" "$HP_SOCKET" fds p 1)
like "$out" '^answer=100 nfds=0$' "a claim carrying one undeclared fd: answered 100"
for i in 1 2 3 4 5 6 7 8 9 10 ; do timeout 3 "$probe" "$HP_SOCKET" fds p 250 > /dev/null ; done
ok "after ten more, the fd count is still $fds0" hp_until 2000 eval 'test "$(hp_fd_count "$pid")" -eq "$fds0"'
is "$(devnull)" "$null0" "none of the fds sent is open in the daemon"
is "$(hp_field p ready)" 1 "the slot is still ready"
out=$("$(hp_probe hp-probe-client)" "$HP_SOCKET" claim p nowait)
like "$out" '^answer=0 ' "and a plain claim is granted"
done_testing
