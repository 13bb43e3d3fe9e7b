#!/bin/sh
# A held slot is scrubbed at the end of its lease whatever became of it
# meanwhile: a reload changed its pool's size (the slot is remade), a
# reload removed its pool (the slot goes), its helper died during the
# lease. In each case the holder leaked a copy of its memfd to a child
# that outlives the lease: once the lease has ended, that copy must hold
# no block (st_blocks of the child's fd, through /proc) and read only
# zeros, and no page of the child's mapping may still be in memory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"

MB=1048576
P=$T/pools
hp_pool resize 4M 1
hp_pool gone 4M 1
hp_pool crash 4M 1
hp_start_supervised -p "$P"
hp_wait_up || bail_out "the daemon did not become ready"
dpid=$(hp_daemon_pid) || bail_out "no daemon pid"
leak=$(hp_probe hp-probe-leak) || bail_out "cannot build hp-probe-leak"

# leaker NAME POOL: a holder that writes the pattern over its memfd and
# forks a child that keeps a copy of it (and a mapping), then keeps the
# lease (sleep) until it is killed. $T/NAME.out gets written= and child=.
leaker() {
  rm -f "$T/$1.out" "$T/$1.report"
  hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" "$2" sh -c '"$0" "$1.report" 120 > "$1.tmp" && mv "$1.tmp" "$1.out" ; exec sleep 1000' "$leak" "$T/$1"
  eval "HOLD_$1=\$HP_BG_PID"
}

# child NAME: the pid of NAME's child, once it has forked.
child() {
  sed -n 's/^child=//p' "$T/$1.out" 2>/dev/null
}

# blocks PID: st_blocks of the memfd PID keeps, read through /proc.
blocks() {
  for _b_fd in /proc/"$1"/fd/* ; do
    case $(readlink "$_b_fd" 2>/dev/null) in
      /memfd:*) stat -L -c %b "$_b_fd" ; return 0 ;;
    esac
  done
  echo none
}

blocks_are() {
  test "x$(blocks "$1")" = "x$2"
}

# report NAME N: asks NAME's child for its N-th report and prints it.
report() {
  kill -USR1 "$2"
  hp_until 5000 grep -qs "^n=$3 " "$T/$1.report"
  cat "$T/$1.report" 2>/dev/null
}

# check NAME WHAT: after NAME's lease ended, its child's copy is empty.
check() {
  _c=$(child "$1")
  ok "$2: the child's copy holds no block any more (st_blocks=0)" hp_until 5000 blocks_are "$_c" 0
  _r=$(report "$1" "$_c" 1)
  like "$_r" ' nonzero=0 ' "$2: the child's copy reads only zeros"
  like "$_r" ' resident=0 ' "$2: no page of the child's mapping is still in memory"
  kill -TERM "$_c"
}

# hold NAME POOL: a leaker on POOL holds and its child is there.
hold() {
  leaker "$1" "$2"
  ok "$1: a holder on $2 wrote the pattern and forked its child" hp_until 5000 test -s "$T/$1.out"
  _c=$(child "$1")
  hp_track "$_c"
  is "$(blocks "$_c")" $((4 * MB / 512)) "$1: the child's copy holds all 4M"
}

# --- a reload changes the size of a held slot's pool ---
hold a resize
echo 8M > "$P/resize/size"
hpp_revoke -r
is "$?" 0 "reload: resize/size is 8M now"
ok "the lease is still held" hp_stays 300 hp_alive "$HOLD_a"
kill -TERM "$HOLD_a"
ok "after the lease, the slot is remade with the new size: ready=1" hp_until 10000 eval 'hp_field_is resize ready 1 && hp_field_is resize preparing 0'
check a "size changed"
ok "log: its helper scrubbed, then exited as told (event=helper-scrubbed)" hp_log_kv_has event=helper-scrubbed pool=resize
is "$(hp_log_kv_count event=helper-crash pool=resize)" 0 "no helper of resize counted as crashed"

# --- a reload removes a held slot's pool ---
hold b gone
rm -rf "$P/gone"
hpp_revoke -r
is "$?" 0 "reload: gone removed"
ok "the lease is still held" hp_stays 300 hp_alive "$HOLD_b"
kill -TERM "$HOLD_b"
ok "after the lease, the pool goes" hp_until 5000 eval '! hp_status | grep -q "^pool=gone "'
check b "pool removed"
ok "log: event=helper-scrubbed for gone" hp_log_kv_has event=helper-scrubbed pool=gone

# --- the helper of a held slot dies during the lease ---
hold c crash
h=
for p in $(hp_helper_pids "$dpid") ; do
  case $(hp_cmdline "$p") in
    *" -p crash "*) h=$p ;;
  esac
done
ok "the helper of the held slot of crash is found" test -n "$h"
test -n "$h" && kill -KILL "$h"
ok "it died" hp_until 5000 hp_dead "$h"
ok "the lease is still held" hp_stays 300 hp_alive "$HOLD_c"
kill -TERM "$HOLD_c"
ok "after the lease, a new helper makes the slot ready" hp_until 10000 hp_field_is crash ready 1
check c "helper died"

ok "no slot was granted twice (log)" hp_log_no_double_grant

done_testing
