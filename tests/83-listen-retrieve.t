#!/bin/sh
# holdingpen-daemon -f takes the listening socket back from the fd holder
# before it binds one: stored there (here by the test itself, from the
# running holdingpend), it is the same socket after a restart by
# s6-svc -r or SIGKILL, and a claim that connects meanwhile waits in its
# backlog instead of being refused. What is kept under its identifier
# but is not that socket (bound elsewhere, not listening, a datagram
# socket, not a socket, its path gone or now another socket's) is
# refused with one line and the socket is bound anew; with no fd holder
# the socket is bound anew too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"

hp_pool m 1M 4
hpf_fdholder
# the broker starts once the fd holder is up, not beside it
mkdir -p "$T/scan/holdingpen"
touch "$T/scan/holdingpen/down"
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER"
# half a second with no broker at each restart, as on a loaded machine:
# a window long enough for claims to come while nothing accepts them
hpf_slow_start 0.5
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_until 5000 s6-svok "$HP_SVC" || bail_out "s6-supervise did not start"
s6-svc -u "$HP_SVC"
hp_wait_up || bail_out "the daemon did not become ready"
hp_probe hp-probe-getfd > /dev/null || bail_out "cannot build hp-probe-getfd"
id=$(hpf_listen_id)

ok "first start, nothing kept: no word about a kept socket" eval '! hp_log_has "listening socket|kept as"'
inode0=$(hpf_listen_inodes)
is "$(printf '%s\n' "$inode0" | grep -c .)" 1 "one socket listens on the path"

# --- the socket, kept by the test: taken back at each restart ---
for how in term kill ; do
  ok "$how: the running holdingpend's socket is stored in the fd holder" hpf_store_listen
  hpf_restart_round "$how" "$how" "$inode0"
  is "$(hp_log_count 'holdingpen-daemon: info: listening socket taken back from the fd holder: ')" \
    "$([ $how = term ] && echo 1 || echo 2)" "$how: the log says it was taken back"
  is "$(hp_claim -n m echo granted 2>&1)" granted "$how: a claim after the restart is granted"
done

# --- what is kept but is not the socket: refused, bound anew ---

# refused NAME WHY-ERE: with the service down and something stored under
# the identifier, the service comes up, refuses it with one line saying
# why, binds the socket anew and serves.
refused() {
  _r_n=$(hp_log_count "refusing the listening socket kept as ")
  s6-svc -u "$HP_SVC"
  ok "$1: the daemon comes up" hp_wait_up
  is "$(hp_log_count "refusing the listening socket kept as ")" $((_r_n + 1)) "$1: one line refuses it"
  like "$(grep 'refusing the listening socket kept as ' "$T/log" | tail -n 1)" \
    "^holdingpen-daemon: warning: refusing the listening socket kept as $id: $2; binding $HP_SOCKET\$" "$1: it says why"
  is "$(hpf_listen_inodes | grep -c .)" 1 "$1: one socket listens on the path"
  isnt "$(hpf_listen_inodes)" "$inode0" "$1: a new one"
  is "$(hp_claim -n m echo granted 2>&1)" granted "$1: a claim is granted"
  inode0=$(hpf_listen_inodes)
}

# down_store CMD...: the service down, CMD's stdin stored under the identifier
down_store() {
  hp_svc_down || bail_out "the service did not go down"
  s6-fdholder-delete "$HPF_FDHOLDER" "$id" 2> /dev/null
  "$@"
}

down_store s6-ipcserver-socketbinder "$T/elsewhere" s6-fdholder-store "$HPF_FDHOLDER" "$id"
refused "bound elsewhere" 'it is bound to another path'
down_store s6-ipcserver-socketbinder -b 0 "$HP_SOCKET" s6-fdholder-store "$HPF_FDHOLDER" "$id"
refused "not listening" 'it is not listening'
down_store s6-ipcserver-socketbinder -m -b 0 "$HP_SOCKET" s6-fdholder-store "$HPF_FDHOLDER" "$id"
refused "datagram" 'it is not a stream socket'
down_store s6-fdholder-store "$HPF_FDHOLDER" "$id" < "$T/log"
refused "a file" 'it is not a socket'

ok "the socket stored again" hpf_store_listen
hp_svc_down || bail_out "the service did not go down"
rm -f "$HP_SOCKET"
refused "its path removed" 'its path no longer exists'

ok "the socket stored again" hpf_store_listen
hp_svc_down || bail_out "the service did not go down"
rm -f "$HP_SOCKET"
s6-ipcserver-socketbinder "$HP_SOCKET" true
ok "another socket made at its path" test -S "$HP_SOCKET"
refused "its path another socket's" "its path is now another socket's"

# --- no fd holder: bound anew, at once ---
ok "the socket stored again" hpf_store_listen
hp_svc_down
s6-svc -d "$T/scan/fdholder"
ok "the fd holder goes" hp_until 5000 eval '! s6-svstat -o up "$T/scan/fdholder" | grep -qx true'
n=$(hp_log_count 'unable to connect to the fd holder at .* to take back the listening socket; binding ')
t0=$(hp_now_ms)
ok "no fd holder: the daemon comes up" hp_svc_up
t1=$(hp_now_ms)
is "$(hp_log_count 'unable to connect to the fd holder at .* to take back the listening socket; binding ')" $((n + 1)) "no fd holder: one line says so"
cmp_ok $((t1 - t0)) -lt 5000 "no fd holder: ready in $((t1 - t0)) ms"
is "$(hp_claim -n m echo granted 2>&1)" granted "no fd holder: a claim is granted"
isnt "$(hpf_listen_inodes)" "$inode0" "no fd holder: a new socket"

done_testing
