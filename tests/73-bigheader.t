#!/bin/sh
# A client's buffered input is bounded: a request is at most 4096 bytes
# (HOLDINGPEN_REQUEST_MAX), and a header announcing more is answered 100
# (bad request) and the connection closed, before anything is allocated for
# it. Four connections announce 256 MiB each and then push bytes for a few
# seconds: the daemon's memory does not grow with what they send.
. "$(dirname "$0")/lib.sh"
hp_setup

hp_pool p 4M 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)
probe=$(hp_probe hp-probe-hostile) || bail_out "cannot build hp-probe-hostile"

# one connection, a header of 2^28 bytes
out=$("$probe" "$HP_SOCKET" trickle 1 268435456 3 65536)
like "$out" '^answers=1 closed=1 ' "a header announcing 2^28 bytes is answered 100 and the connection closed"
ok "log: event=client-error reason=badrequest" hp_log_kv_has event=client-error reason=badrequest

# just over the limit is refused too; exactly the limit is read (and is not a valid request)
out=$("$probe" "$HP_SOCKET" trickle 1 4097 2 4097)
like "$out" '^answers=1 closed=1 ' "4097 bytes announced: refused"

# four connections, 256 MiB announced each, then up to 32 MiB pushed on each
sleep 0.2
rss0=$(hp_rss_kb "$pid")
out=$("$probe" "$HP_SOCKET" trickle 4 268435456 4 33554432)
rss1=$(hp_rss_kb "$pid")
note "daemon RSS $rss0 kB before, $rss1 kB after; $out"
like "$out" '^answers=4 closed=4 ' "all four are answered 100 and closed"
cmp_ok "$(echo "$out" | sed 's/.*sent=//')" -lt $((4 * 1048576)) "they could not push more than a socket buffer's worth (under 4 MiB in all)"
cmp_ok "$rss1" -lt $((rss0 + 2048)) "the daemon's RSS did not grow (less than 2 MiB)"

is "$(hp_field p ready)" 1 "the daemon still serves: ready=1"
is "$(hp_daemon_pid)" "$pid" "and it is the same process"
done_testing
