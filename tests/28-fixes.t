#!/bin/sh
# Four corners of lease policy and slot life that once went wrong:
# - ifelapsed is checked again when a waiter is dispatched: a uid that queued
#   twice on a full pool gets the first slot, and its second claim is refused
#   with 3 (too soon) instead of being granted after the first;
# - a slot that failed for good (file pool whose dir is missing) tries again
#   at every reload, by s6-svc -h or holdingpen-revoke -r;
# - a daemon that may not signal the holder (run as nobody, holder root)
#   still takes the careful kill through all its steps: EPERM is not "holder
#   gone", so the lease does not end at once when it expires;
# - on a filesystem that cannot punch holes (vfat if this machine has it; a
#   seccomp filter refusing FALLOC_FL_PUNCH_HOLE on a tmpfs in any case) the
#   old file of a lease is truncated, so a leaked fd keeps no block.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
. "$HP_TESTDIR/lib-kinds.sh"
hp_open_tmp

MB=1048576
R=$T/rules
hp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hp_rule "$R" uid/65534 HOLDINGPEN_CLAIM_REGEX=.*

# --- 1. ifelapsed at dispatch time ----------------------------------------------

hp_pool sp 1M 1 ifelapsed=5
hp_pool fl 1M 1 kind=file "dir=$T/nodir"
hp_start_supervised -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready (a slot failed for good must count as settled)"

hp_hold -u "$HP_NOBODY" h sp
ok "nobody holds the only slot of sp" hp_until 5000 hp_holds h
( hp_claim sp true 2> "$T/w1.err" ; echo $? > "$T/w1.rc" ) < /dev/null &
hp_track $!
ok "root queues a first claim" hp_until 5000 hp_field_is sp waiters 1
( hp_claim sp touch "$T/w2.ran" 2> "$T/w2.err" ; echo $? > "$T/w2.rc" ) < /dev/null &
hp_track $!
ok "and a second one behind it" hp_until 5000 hp_field_is sp waiters 2
kill -TERM "$HOLD_h"
ok "the first waiter is answered" hp_until 10000 test -s "$T/w1.rc"
is "$(cat "$T/w1.rc")" 0 "the first waiter is granted: exit 0"
ok "the second waiter is answered when the slot comes back" hp_until 10000 test -s "$T/w2.rc"
is "$(cat "$T/w2.rc")" 3 "the second waiter of the same uid is refused: exit 3 (too soon)"
like "$(cat "$T/w2.err")" 'too soon' "it says too soon"
ok "its prog was not run" test ! -e "$T/w2.ran"
ok "log: event=deny pool=sp uid=0 reason=toosoon" hp_log_kv_has event=deny pool=sp uid=0 reason=toosoon
is "$(hp_log_kv_count event=grant pool=sp uid=0)" 1 "log: root was granted sp once"

# --- 2. a slot failed for good tries again at every reload -----------------------

ok "fl: the helper fails for good (log event=helper-failed)" hp_log_kv_has event=helper-failed pool=fl
is "$(hp_field fl failed) $(hp_field fl ready)" "1 0" "status: fl failed=1 ready=0"
mkdir "$T/nodir"
ok "s6-svc -h after making the dir" hp_hup
ok "the slot becomes ready: status ready=1 failed=0" hp_until 10000 eval 'hp_field_is fl ready 1 && hp_field_is fl failed 0'
hp_claim -n fl true
is "$?" 0 "a claim on fl succeeds"
# the dir goes again: the next reservation, after that lease, fails for good
ok "fl is ready again after the lease" hp_until 10000 hp_field_is fl ready 1
rmdir "$T/nodir"
nfail=$(hp_log_kv_count event=helper-failed pool=fl)
hp_claim -n fl true
ok "without its dir, the re-reservation fails for good again" hp_until 10000 eval 'test "$(hp_log_kv_count event=helper-failed pool=fl)" -gt "$nfail" && hp_field_is fl failed 1'
mkdir "$T/nodir"
hp_revoke -r
is "$?" 0 "holdingpen-revoke -r after making the dir again: exit 0"
ok "the slot gets another chance: ready=1 failed=0" hp_until 10000 eval 'hp_field_is fl ready 1 && hp_field_is fl failed 0'
hp_claim -n fl true
is "$?" 0 "a claim on fl succeeds again"
ok "no slot was granted twice (log)" hp_log_no_double_grant

hp_stop
mv "$T/log" "$T/log.1"

# --- 3. the careful kill by a daemon that may not signal the holder --------------

rm -rf "$T/pools" "$T/scan"
hp_pool pe 1M 1 expire=1 killdelay=1
hp_start_supervised -u 65534 -g 65534 -G 65534 -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon (as nobody) did not become ready"
is "$(awk '$1 == "Uid:" { print $2 }' "/proc/$(hp_daemon_pid)/status")" 65534 "holdingpend runs as nobody"
F=$T/pe.sig
: > "$F"
# root: the daemon cannot signal it (INT and TERM would only be logged anyway)
hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" pe env --default-signal=INT,TERM sh -c '
  trap "echo INT >> $0" INT
  trap "echo TERM >> $0" TERM
  echo started >> "$0"
  while : ; do sleep 0.1 ; done' "$F"
holder=$HP_BG_PID
ok "a root holder gets the slot" hp_until 5000 eval 'grep -q started "$F"'
ok "the lease expires: log event=expire" hp_until 5000 hp_log_kv_has event=expire pool=pe
texp=$(hp_now_ms)
ok "the lease ends" hp_until 10000 eval 'hp_log_kv_has event=end pool=pe || hp_log_kv_has event=release pool=pe'
tend=$(hp_now_ms)
note "lease ended about $((tend - texp)) ms after the expire line appeared"
cmp_ok "$((tend - texp))" -ge 2500 "not at once: the kill sequence took its course (>= 2.5 s after expire)"
is "$(hp_log_kv event=kill pool=pe | sed 's/.* signal=\([A-Z]*\).*/\1/' | tr '\n' ' ')" "CONT INT TERM KILL " \
  "log: every step of the careful kill was taken (CONT INT TERM KILL)"
is "$(hp_log_kv event=kill pool=pe sent=no error=EPERM | wc -l | tr -d ' ')" 4 \
  "log: each of those steps says the signal could not be sent (sent=no error=EPERM)"
ok "log: the lease ends with event=end" hp_log_kv_has event=end pool=pe
ok "the holder, out of the daemon's reach, is still alive" hp_alive "$holder"
is "$(grep -v started "$F")" "" "and it got no signal"
ok "the slot comes back: ready=1" hp_until 5000 hp_field_is pe ready 1
hp_claim -n pe true
is "$?" 0 "and can be claimed again"
kill -KILL "$holder"
hp_stop
mv "$T/log" "$T/log.3"

# --- 4. scrub on a filesystem that cannot punch holes ------------------------------

leak=$(hp_probe hp-probe-leak) || bail_out "cannot build hp-probe-leak"
nopunch=$(hp_probe hp-probe-nopunch) || bail_out "cannot build hp-probe-nopunch"
slack=$((256 * 1024))

# scrub_case NAME DIR [WRAPPER...]: a daemon (WRAPPER holdingpend) with a
# file pool NAME of one 8M slot in DIR. After a holder that leaked its fd to
# a child, the free space on DIR's filesystem is back at its reserved level.
# Returns 2 with HPK_WHY set if the pool cannot be reserved there at all.
scrub_case() {
  _n=$1 ; _d=$2 ; shift 2
  mkdir -p "$T/pools-$_n/$_n"
  echo file > "$T/pools-$_n/$_n/kind"
  echo 8M > "$T/pools-$_n/$_n/size"
  echo "$_d" > "$T/pools-$_n/$_n/dir"
  _a0=$(hpk_avail "$_d")
  hp_bg s6-ipcserver-socketbinder "$T/$_n.socket" "$@" "$HP_BUILD/holdingpend" -1 -p "$T/pools-$_n" -H "$HP_BUILD/holdingpen-helper" > "$T/$_n.ready" 2> "$T/$_n.log"
  _daemon=$HP_BG_PID
  if ! hp_until 10000 test -s "$T/$_n.ready" ; then
    fail "$_n: the daemon becomes ready" ; return 1
  fi
  if grep -q 'event=helper-failed' "$T/$_n.log" ; then
    HPK_WHY="the helper cannot reserve a file there: $(grep '^holdingpen-helper:' "$T/$_n.log" | head -n 1)"
    kill -TERM "$_daemon" ; hp_until 3000 hp_dead "$_daemon"
    return 2
  fi
  _a1=$(hpk_avail "$_d")
  ok "$_n: ready, with 8M reserved ($(( (_a0 - _a1) / 1024 )) kB)" hpk_near $((_a0 - _a1)) $((8 * MB)) $slack
  _nready=$(grep -c "event=helper-ready pool=$_n " "$T/$_n.log")
  _out=$(timeout -s KILL 60 "$HP_BUILD/holdingpen-claim" -s "$T/$_n.socket" "$_n" "$leak" "$T/$_n.report" 60)
  is "$?" 0 "$_n: a holder fills its file, leaks the fd to a child and exits"
  _child=$(printf '%s\n' "$_out" | sed -n 's/^child=//p')
  hp_track $_child
  ok "$_n: a fresh file is reserved (helper-ready)" hp_until 5000 eval 'test "$(grep -c "event=helper-ready pool=$_n " "$T/$_n.log")" -gt "$_nready"'
  _back() { _a2=$(hpk_avail "$_d") ; hpk_near "$_a2" "$_a1" $slack ; }
  ok "$_n: the free space is back at its reserved level: the leaked fd holds no block" hp_until 5000 _back
  note "$_n: free space ready: $((_a1 / 1024)) kB, after the leaked lease: $((_a2 / 1024)) kB"
  kill -USR1 "$_child"
  hp_until 5000 grep -qs '^n=1 ' "$T/$_n.report"
  like "$(cat "$T/$_n.report" 2>/dev/null)" '^n=1 size=0 .* nonzero=0 ' "$_n: the leaked fd sees an empty file (it was truncated)"
  is "$(grep -cE 'warning: .*(punch the hole|old resource)' "$T/$_n.log")" 0 "$_n: the helper did not have to warn about the old file"
  kill -TERM "$_child" "$_daemon"
  hp_until 3000 hp_all_dead "$_child" "$_daemon"
  return 0
}

# a tmpfs, with hole punching refused by a seccomp filter on the daemon and its helpers
if hpk_tmpfs "$T/fs" 64m ; then
  mkdir "$T/fs/np"
  scrub_case np "$T/fs/np" "$nopunch"
  test $? -eq 2 && skip "np: $HPK_WHY" 6
else
  skip "np: $HPK_WHY" 6
fi

# a real vfat filesystem, if this machine can make and mount one
why=
if ! command -v mkfs.vfat > /dev/null 2>&1 ; then
  why="mkfs.vfat is not installed (dosfstools)"
elif ! grep -qw vfat /proc/filesystems && ! { modprobe vfat 2> /dev/null && grep -qw vfat /proc/filesystems ; } ; then
  why="the kernel has no vfat"
else
  truncate -s 64M "$T/vfat.img" && mkfs.vfat "$T/vfat.img" > /dev/null 2>&1 && mkdir -p "$T/vfat" \
   && why=$(mount -o loop "$T/vfat.img" "$T/vfat" 2>&1) && why=
  if test -z "$why" && mountpoint -q "$T/vfat" ; then
    hp_at_exit "hp_until 3000 umount $(hp__quote "$T/vfat") 2>/dev/null || umount -l $(hp__quote "$T/vfat")"
    mkdir "$T/vfat/vf"
  else
    why="cannot mount a vfat loop filesystem: ${why:-mount failed}"
  fi
fi
if test -z "$why" ; then
  scrub_case vf "$T/vfat/vf"
  test $? -eq 2 && skip "vf: $HPK_WHY" 6
else
  skip "vf: $why" 6
fi

done_testing
