#!/bin/sh
# The listening socket outlives the broker too (holdingpend -f): holdingpend
# keeps it in the fd holder, and the next holdingpen-daemon takes it back
# instead of binding anew. So across s6-svc -r and SIGKILL, again and
# again, the socket is the same (same inode) and claims made all along
# with -n, which never try again, are never refused a connection: those
# made while no holdingpend runs wait in the backlog and are served by the
# next one. A broker stopped for good (s6-svc -d) leaves nothing that
# keeps clients waiting: within -F seconds the socket is no longer kept,
# and a claim is refused at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"

keepsecs=3
hp_pool m 1M 4
hpf_fdholder
# the broker starts once the fd holder is up, not beside it
mkdir -p "$T/scan/holdingpen"
touch "$T/scan/holdingpen/down"
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER" -F "$keepsecs"
# half a second with no broker at each restart, as on a loaded machine:
# a window long enough for claims to come while nothing accepts them
hpf_slow_start 0.5
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_until 5000 s6-svok "$HP_SVC" || bail_out "s6-supervise did not start"
s6-svc -u "$HP_SVC"
hp_wait_up || bail_out "the daemon did not become ready"

ok "holdingpend keeps its listening socket in the fd holder, as $(hpf_listen_id)" hp_until 3000 hpf_listen_kept
inode0=$(hpf_listen_inodes)
is "$(printf '%s\n' "$inode0" | grep -c .)" 1 "one socket listens on the path"

n=0
for how in term kill kill term ; do
  n=$((n + 1))
  hpf_restart_round "$n $how" "$how" "$inode0"
  is "$(hp_log_count 'holdingpen-daemon: info: listening socket taken back from the fd holder: ')" "$n" "$n $how: the log says it was taken back"
  ok "$n $how: the new holdingpend keeps it in turn" hp_until 3000 hpf_listen_kept
done
is "$(hp_claim -n m echo granted 2>&1)" granted "a claim after the restarts is granted"

# --- stopped for good: not kept past -F, and refused, not left waiting ---
ok "the broker is stopped for good" hp_svc_down
ok "within $keepsecs s the socket is no longer kept" hp_until $((keepsecs * 1000 + 2000)) eval '! hpf_listen_kept'
t0=$(hp_now_ms)
out=$(hp_claim -n m true 2>&1)
rc=$?
t1=$(hp_now_ms)
is "$rc" 111 "then a claim fails"
like "$out" 'Connection refused$' "refused a connection"
cmp_ok $((t1 - t0)) -lt 1000 "at once ($((t1 - t0)) ms)"

done_testing
