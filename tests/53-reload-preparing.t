#!/bin/sh
# A reload that changes a pool's size while its slots are being prepared
# leaves nothing behind: the resource a stale slot's helper finishes is
# dropped when the slot is remade, never kept by holdingpend. Five
# reloads, sizes alternating, each while both slots of the pool are
# preparing; afterwards holdingpend holds one memfd per ready slot, all
# of the last size, and each helper one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"

MB=1048576
P=$T/pools
hp_pool big 64M 2
hp_start_supervised -p "$P"
hp_wait_up || bail_out "the daemon did not become ready"
dpid=$(hp_daemon_pid) || bail_out "no daemon pid"

spawns() {
  hp_log_kv_count event=helper-spawn pool=big
}

spawns_gt() {
  test "$(spawns)" -gt "$1"
}

# memfds PID: the size of each memfd PID holds, one a line.
memfds() {
  for _m_fd in /proc/"$1"/fd/* ; do
    case $(readlink "$_m_fd" 2>/dev/null) in
      /memfd:*) stat -L -c %s "$_m_fd" ;;
    esac
  done
}

# The first reload remakes the ready slots: both are preparing once it is applied.
echo 256M > "$P/big/size"
hpp_revoke -r
is "$?" 0 "reload to 256M: both slots are remade"
size=256
for i in 1 2 3 4 5 ; do
  if test $size -eq 256 ; then size=128 ; else size=256 ; fi
  n=$(spawns)
  ready=$(hp_log_kv_count event=helper-ready pool=big)
  prep=$(hp_field big preparing)
  echo ${size}M > "$P/big/size"
  hpp_revoke -r
  is "$?" 0 "reload $i to ${size}M, with $prep slots preparing and $ready ready so far"
  # both slots, stale now, are remade once their helper is done: two spawns
  ok "reload $i: both slots are remade" hp_until 20000 spawns_gt $((n + 1))
done
ok "both slots ready with the last size" hp_until 20000 eval 'hp_field_is big ready 2 && hp_field_is big preparing 0 && hp_field_is big size $((size * MB))'

sizes=$(memfds "$dpid" | sort | uniq -c | awk '{ printf "%s of %s, ", $1, $2 }')
note "holdingpend's memfds: $sizes"
is "$(memfds "$dpid" | wc -l | tr -d ' ')" 2 "holdingpend holds two memfds, one per ready slot"
is "$(memfds "$dpid" | grep -vcx $((size * MB)))" 0 "none of an old size"
for h in $(hp_helper_pids "$dpid") ; do
  is "$(memfds "$h" | tr '\n' ' ')" "$((size * MB)) " "helper $h holds one memfd, of the last size"
done
is "$(hp_helper_count "$dpid")" 2 "two helpers"

done_testing
