#!/bin/sh
# The daemon's trees (timers by time, helpers by pid) under the life of
# its timers: ids armed, moved and cancelled in a random order, more ids
# as reloads add slots, so that the tree must be made bigger; after every
# step the tree is checked whole (each node reached once, in order,
# balanced, as many as counted) and its minimum against a plain scan.
# skalibs' growing avltree, which the daemon used before, is put through
# the same sequences: on the skalibs that Debian 12 ships (2.13.1.1),
# it loses nodes after its storage grows (doc/holdingpend-inside.html).
. "$(dirname "$0")/lib.sh"
hp_setup
probe=$(hp_probe hp-probe-tree) || bail_out "cannot build hp-probe-tree"

bad=
for seed in $(seq 1 40) ; do
  out=$("$probe" fixed "$seed" 20000)
  test "x$out" = "xok steps=20000" || bad="$bad seed=$seed:$out"
done
is "$bad" "" "the fixed-size tree stays whole and in order through 40 seeds of 20,000 steps, growing as it must"

broken=0
for seed in $(seq 1 10) ; do
  case $("$probe" growing "$seed" 20000) in
    bad*) broken=$((broken + 1)) ;;
  esac
done
ver=$(dpkg-query -W -f '${Version}' skalibs-dev 2>/dev/null || echo unknown)
note "skalibs $ver: its growing avltree broke in $broken of 10 seeds (the defect the fixed-size tree avoids)"
pass "the growing avltree of this skalibs was put through the same sequences"
done_testing
