#!/bin/sh
# A helper run with -A -P takes back the resource of its slot, as a new
# holdingpend gives it after a restart, instead of reserving anew. Driven
# alone by hp-probe-adopt, which makes the resource itself, as an earlier
# helper would have, with a token at its start:
#  a + the resource: r comes with that very resource (same inode), the token
#    still in it, and no memory (Shmem, hugepages) or disk taken meanwhile;
#    e then empties it (token gone, nothing allocated) and a fresh one comes
#    with r; a ballast answers g with x, its memory or blocks freed first;
#  a + a resource that is not what the kind and size say: dropped, a fresh
#    one reserved;
#  h + the resource of a slot still held: no answer; e empties it and a fresh
#    one comes with r; a held file that is not one a helper makes (it has a
#    name) is dropped and never touched;
#  e first: nothing given back, a fresh resource; end of file first: exit 0,
#    quietly.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-kinds.sh"

adopt=$(hp_probe hp-probe-adopt) || bail_out "cannot build hp-probe-adopt"
helper=$HP_BUILD/holdingpen-helper
MB=1048576
msize=$((64 * MB))
slack=$(hp_shmem_slack)

# run NAME ARGS...: the probe's output in $out, the helper's stderr in $T/NAME.err
run() {
  _run_name=$1 ; shift
  out=$("$adopt" "$@" 2> "$T/$_run_name.err")
}
key() {
  hpk_key "$out" "$1"
}

# --- memory: memfd, with and without -l; ballast-mem ---
for lock in "" -l ; do
  name=memfd${lock:+ $lock}
  run memfd$lock $lock "$helper" memfd $msize adopt
  is "$(key first)" "r nfds=1" "$name, a: the helper answers r with an fd"
  is "$(key same)" 1 "$name, a: the fd is the memfd given (same inode)"
  is "$(key token)" 1 "$name, a: the token is still in it: adopted, not made anew"
  cmp_ok "$(key shmem_grew)" -lt $((msize / 2)) "$name, a: Shmem did not grow by the size ($(key shmem_grew) bytes)"
  if test -n "$lock" ; then
    if test -n "$HP_SANITIZED" ; then skip "AddressSanitizer makes mlock a no-op" ; else
      cmp_ok "$(key vmlck)" -ge $msize "memfd -l, a: the helper locked the pages again (VmLck)"
    fi
  fi
  is "$(key second)" "r nfds=1" "$name, e: a new r with an fd"
  is "$(key old_nonzero) $(key old_blocks)" "0 0" "$name, e: the adopted memfd is emptied, the token gone"
  is "$(key second_same) $(key second_blocks)" "0 $msize" "$name, e: the new r brings a fresh memfd, allocated"
  is "$(key exit) $(key stderr)" "0 quiet" "$name: exit 0 at end of file, nothing said"
done

run bm "$helper" ballast-mem $msize adopt
is "$(key first)" "r nfds=1" "ballast-mem, a: r comes with the memfd (-P)"
is "$(key same) $(key token)" "1 1" "ballast-mem, a: the memfd given, token in it"
cmp_ok "$(key shmem_grew)" -lt $((msize / 2)) "ballast-mem, a: Shmem did not grow by the size ($(key shmem_grew) bytes)"
if test -n "$HP_SANITIZED" ; then skip "AddressSanitizer makes mlock a no-op" 2 ; else
  cmp_ok "$(key vmlck)" -ge $msize "ballast-mem, a: the helper keeps the ballast locked (VmLck)"
  is "$(key vmlck_given)" 0 "ballast-mem, g: nothing locked any more"
fi
is "$(key give)" x "ballast-mem, g: x"
is "$(key given_blocks)" 0 "ballast-mem, g: the memfd is emptied before x, though we keep an fd to it"
is "$(key second)" "r nfds=1" "ballast-mem, e: a new r with a new memfd"
is "$(key second_same) $(key second_blocks)" "0 $msize" "ballast-mem, e: a fresh memfd, allocated"

run bad "$helper" memfd $msize bad
is "$(key first)" "r nfds=1" "memfd, a of half the size: r with an fd"
is "$(key same) $(key size) $(key blocks)" "0 $msize $msize" "the fd is a fresh memfd of the right size"
cmp_ok "$(key shmem_grew)" -ge $((msize - slack)) "the helper allocated it ($(key shmem_grew) bytes)"
like "$(cat "$T/bad.err")" "pool adopt: the resource given back is not of the pool's size: dropped" "the helper says why it dropped it"

run held "$helper" memfd $msize held
is "$(key first)" - "memfd, h: no answer"
is "$(key second)" "r nfds=1" "memfd, h then e: r with an fd"
is "$(key old_nonzero) $(key old_blocks)" "0 0" "memfd, h then e: the held memfd is emptied, the token gone"
is "$(key second_same) $(key second_blocks)" "0 $msize" "memfd, h then e: a fresh memfd"

run heldl -l "$helper" memfd $msize held
if test -n "$HP_SANITIZED" ; then skip "AddressSanitizer makes mlock a no-op" ; else
  cmp_ok "$(key held_vmlck)" -ge $msize "memfd -l, h: the helper locks the held pages again"
fi
is "$(key old_nonzero) $(key second)" "0 r nfds=1" "memfd -l, h then e: emptied, then r"

run firste "$helper" memfd $msize first-e
is "$(key first) $(key blocks)" "r nfds=1 $msize" "e first: r with a fresh memfd, allocated"

run eof "$helper" memfd $msize eof
is "$(key exit) $(key stderr)" "0 quiet" "end of file before any command: exit 0, nothing said"

# --- hugetlb ---
hps=$(hpk_hugepagesize)
if test -n "$hps" && hpk_hugepages_add 2 ; then
  run huge "$helper" hugetlb $((2 * hps)) adopt
  is "$(key first) $(key same) $(key token)" "r nfds=1 1 1" "hugetlb, a: r with the memfd given, token in it"
  is "$(key hugefree_dropped)" 0 "hugetlb, a: no hugepage taken"
  is "$(key old_nonzero) $(key old_blocks) $(key second)" "0 0 r nfds=1" "hugetlb, e: emptied, then r"
else
  skip "no hugepages: ${HPK_WHY:-the kernel has none}" 3
fi

# --- disk: file and ballast-disk on a private tmpfs ---
fs=$T/fs
if hpk_tmpfs "$fs" 40m ; then
  mkdir "$fs/d"
  dsize=$((8 * MB))
  run file "$helper" file $dsize adopt "$fs/d"
  is "$(key first) $(key same) $(key token)" "r nfds=1 1 1" "file, a: r with the file given, token in it"
  cmp_ok "$(key avail_dropped)" -lt $((dsize / 2)) "file, a: no space taken on dir's filesystem ($(key avail_dropped) bytes)"
  is "$(key old_nonzero) $(key old_blocks)" "0 0" "file, e: the adopted file is emptied"
  is "$(key second) $(key second_same) $(key second_blocks)" "r nfds=1 0 $dsize" "file, e: r with a fresh file, allocated"

  run bd "$helper" ballast-disk $dsize adopt "$fs/d"
  is "$(key first) $(key same) $(key token)" "r nfds=1 1 1" "ballast-disk, a: r comes with the file given (-P), token in it"
  cmp_ok "$(key avail_dropped)" -lt $((dsize / 2)) "ballast-disk, a: no space taken ($(key avail_dropped) bytes)"
  is "$(key give) $(key given_blocks)" "x 0" "ballast-disk, g: the file is emptied before x, though we keep an fd to it"
  is "$(key second) $(key second_same) $(key second_blocks)" "r nfds=1 0 $dsize" "ballast-disk, e: r with a fresh file"

  run fheld "$helper" file $dsize held "$fs/d"
  is "$(key first)" - "file, h: no answer"
  is "$(key old_nonzero) $(key old_blocks)" "0 0" "file, h then e: the held file is emptied"
  is "$(key second)" "r nfds=1" "file, h then e: r"

  run foreign "$helper" file $dsize foreign "$fs/d"
  is "$(key first)" - "file, h + a file with a name: no answer"
  is "$(key old_nonzero) $(key old_blocks)" "22 $dsize" "file, h then e: the named file is not touched"
  like "$(cat "$T/foreign.err")" "pool adopt: the held resource given back has a name: dropped, not scrubbed" "the helper says why"
  is "$(key second) $(key second_same)" "r nfds=1 0" "file, h then e: r with a fresh file"
  is "$(ls -A "$fs/d")" foreign "dir has no other entry"
else
  skip "$HPK_WHY" 16
fi

done_testing
