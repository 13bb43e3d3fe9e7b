#!/bin/sh
# A client that sends 100,000 status requests in one go and never reads an
# answer: the daemon answers one, stops reading that client while the answer
# waits (backpressure), and its memory stays bounded. Other clients are
# served meanwhile.
. "$(dirname "$0")/lib.sh"
hp_setup
command -v s6-ipcclient > /dev/null 2>&1 || skip_all "s6-ipcclient is not installed"

hp_pool p 4M 2
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)

# 100,000 pipelined status requests (8 bytes each): 2^17 by doubling, cut to 100,000
printf '\000\000\000\002\000\000S\000' > "$T/req"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 ; do cat "$T/req" "$T/req" > "$T/req2" ; mv "$T/req2" "$T/req" ; done
head -c 800000 "$T/req" > "$T/req2" && mv "$T/req2" "$T/req"
is "$(wc -c < "$T/req" | tr -d ' ')" 800000 "100,000 requests are ready"

sleep 0.2
rss0=$(hp_rss_kb "$pid")
hp_bg s6-ipcclient "$HP_SOCKET" sh -c 'cat "$1" >&7 ; echo sent > "$1.sent" ; exec sleep 60' sh "$T/req"
client=$HP_BG_PID
# the writer blocks once the socket buffers are full: give the daemon a few seconds to do what it will
sleep 3
rss1=$(hp_rss_kb "$pid")
note "daemon RSS: $rss0 kB before, $rss1 kB after 3 s of the flood"
cmp_ok "$rss1" -lt $((rss0 + 1024)) "the daemon's RSS grew by less than 1 MiB"
ok "the client could not get its 100,000 requests read: its writer is still blocked" test ! -e "$T/req.sent"
ok "the daemon answers someone else meanwhile" hp_field_is p ready 2
sleep 1
cmp_ok "$(hp_rss_kb "$pid")" -lt $((rss0 + 1024)) "and still: less than 1 MiB more after another second"
kill "$client"
is "$(hp_daemon_pid)" "$pid" "the daemon is the same process"
done_testing
