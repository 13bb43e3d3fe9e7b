#!/bin/sh
# Scrub on a filesystem that cannot punch holes (vfat if this machine has
# it; a seccomp filter refusing FALLOC_FL_PUNCH_HOLE on a tmpfs in any
# case): the old file of a lease is truncated, so a leaked fd keeps no
# block and sees an empty file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-kinds.sh"

MB=1048576

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
