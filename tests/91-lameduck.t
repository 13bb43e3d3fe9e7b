#!/bin/sh
# -T lameducktimeout: on SIGTERM the helpers go at once, and answers still
# queued for a client get up to that long to leave before the daemon exits;
# with nothing queued it exits at once.
. "$(dirname "$0")/lib.sh"
hp_setup
command -v s6-ipcclient > /dev/null 2>&1 || skip_all "s6-ipcclient is not installed"

hp_pool p 4M 2
hp_start_supervised -T 3000 -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)
helpers=$(hp_helper_pids "$pid")

# 16384 status requests, pipelined, from a client that never reads: far
# more answers than the socket buffers hold. The daemon stops reading the
# client while an answer waits (backpressure): the requests stay unread in
# its socket, one answer stays queued, and its memory does not grow with
# what the client sends.
rss0=$(hp_rss_kb "$pid")
printf '\000\000\000\002\000\000S\000' > "$T/req"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 ; do cat "$T/req" "$T/req" > "$T/req2" ; mv "$T/req2" "$T/req" ; done
hp_bg s6-ipcclient "$HP_SOCKET" sh -c 'cat "$1" >&7 ; exec sleep 60' sh "$T/req"
# unread: the Recv-Q of the daemon's end of a connected socket
unread() {
  ss -xnpH 2> /dev/null | awk -v p="pid=$pid," '$2 == "ESTAB" && index($0, p) { if ($3 > m) m = $3 } END { print m + 0 }'
}
ok "the daemon stops reading: requests wait unread in its socket" hp_until 10000 eval 'test "$(unread)" -gt 0'
sleep 1
u1=$(unread)
sleep 1
is "$(unread)" "$u1" "and stay there"
cmp_ok "$(hp_rss_kb "$pid")" -lt $((rss0 + 1024)) "its memory did not grow with them (less than 1 MiB)"
note "daemon RSS: $rss0 kB before, $(hp_rss_kb "$pid") kB with one answer queued and $u1 bytes unread"

t0=$(hp_now_ms)
s6-svc -d "$HP_SVC"
ok "the helpers are gone within a second" hp_until 1250 hp_all_dead $helpers
ok "the daemon lingers: an answer is still queued" hp_alive "$pid"
ok "it is gone by the lame-duck deadline" hp_until 4500 hp_dead "$pid"
t1=$(hp_now_ms)
note "the daemon went $((t1 - t0)) ms after SIGTERM"
cmp_ok $((t1 - t0)) -ge 2500 "no sooner than about -T 3000 ms"
hp_log_has event=exit && pass "its exit is logged" || fail "its exit is logged"

# nothing queued: -T costs nothing
s6-svc -u "$HP_SVC"
hp_wait_up || bail_out "the daemon did not come back"
pid2=$(hp_daemon_pid)
s6-svc -d "$HP_SVC"
ok "with nothing queued the daemon is gone within a second" hp_until 1250 hp_dead "$pid2"
done_testing
