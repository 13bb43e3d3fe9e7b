#!/bin/sh
# A revoked lease ends the moment its holder is gone, even when another
# process still has a copy of the connection: during the careful kill the
# daemon watches the holder itself, not only the connection. The holder
# (SIGINT set back to the default: a background job of the test's shell
# starts with it ignored) leaves a child with the lease fd that survives the kill (a background
# child of a non-interactive shell ignores SIGINT); with killdelay=3 the
# holder dies at SIGINT (t=3 s) and event=end must follow within half a
# second, not wait for the SIGTERM step (t=6 s).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hp_setup

hp_pool p 4M 1 killdelay=3
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" p env --default-signal=INT sh -c 'echo "$HOLDINGPEN_LEASE" > "$0.tmp" && mv "$0.tmp" "$0" ; sleep 1000 & exec sleep 1000' "$T/lease"
holder=$HP_BG_PID
ok "the holder has its lease" hp_until 5000 test -s "$T/lease"
lease=$(cat "$T/lease")
ok "and a child that inherited the lease fd" hp_until 2000 eval 'test -n "$(hp_children "$holder")"'
child=$(hp_children "$holder")
hp_track $child

t0=$(hp_now_ms)
hpp_revoke "$lease"
is "$?" 0 "revoke $lease"
ok "the holder dies at SIGINT" hp_until 8000 hp_dead "$holder"
t1=$(hp_now_ms)
ok "the lease ends" hp_until 5000 hp_log_kv_has event=end "lease=$lease"
t2=$(hp_now_ms)
note "holder gone $((t1 - t0)) ms after the revoke, event=end $((t2 - t0)) ms after it"
cmp_ok $((t1 - t0)) -ge 2500 "the holder went at the INT step (about 3 s)"
cmp_ok $((t2 - t1)) -le 500 "event=end came within 0.5 s of the holder's death"
is "$(hp_log_kv event=kill "lease=$lease" | sed 's/.* signal=\([A-Z]*\).*/\1/' | tr '\n' ' ')" "CONT INT " "log: CONT then INT, no TERM step"
is "$(awk -v l="lease=$lease" 'index($0, l) && / event=kill / && / signal=INT / { k = NR } index($0, l) && / event=end / { e = NR } END { print (k && e > k) ? "ok" : "no" }' "$T/log")" ok "log: event=end comes after the INT step"
ok "the child that kept the connection is alive: the daemon did not wait for it" hp_alive "$child"
ok "the slot is ready again" hp_until 5000 hp_field_is p ready 1
kill $child 2>/dev/null
done_testing
