#!/bin/sh
# A flood of connections that are refused at once (the uid is over its
# count) must not starve the loop: holdingpend accepts a few connections a
# turn, then serves the others. While nobody holds its -C connections and
# two processes of nobody's connect and close as fast as they can, root's
# status is answered within a second, every time, and an expired lease's
# holder is ended on time (expire 1, killdelay 1: INT at 2 s).
# A client waits in the kernel's queue for room in the full backlog, as
# the flooders do (holdingpen_start): one that tried again instead lost
# its turn to them, for a second and more.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hp_setup
hpp_open_tmp
probe=$(hp_probe hp-probe-hostile) || bail_out "cannot build hp-probe-hostile"

R="$T/rules"
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hp_pool e 4M 1 expire=1 killdelay=1
hp_start_supervised -i "$R" -p "$T/pools" -C 4
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)

s6-applyuidgid -u 65534 -g 65534 -G "" "$probe" "$HP_SOCKET" hold 4 12 > "$T/hold.out" &
hp_track $!
hp_until 5000 test -s "$T/hold.out"
floods=
for i in 1 2 ; do
  s6-applyuidgid -u 65534 -g 65534 -G "" "$probe" "$HP_SOCKET" flood 8 > "$T/flood$i.out" &
  hp_track $!
  floods="$floods $!"
done
sleep 1
hp_hold h e
ok "root's claim is granted during the flood" hp_until 3000 hp_holds h
hp_hold w -t 8000 e
ok "root's waiting claim is granted once the expired lease is ended" hp_until 5000 hp_holds w
limit=1
slow=0
for i in 1 2 3 4 5 ; do
  timeout -s KILL "$limit" "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" -k > /dev/null || slow=$((slow + 1))
  sleep 0.3
done
is "$slow" 0 "root's status was answered within $limit s, 5 times of 5, during the flood"
ok "the expired lease's holder was ended within 4 s of its grant" hp_until 4000 hp_dead "$HOLD_h"
# shellcheck disable=SC2086
wait $floods
n=$(cat "$T"/flood*.out | sed -n 's/^connections=//p' | awk '{ s += $1 } END { print s + 0 }')
note "the flood made $n connections"
cmp_ok "$n" -gt 1000 "the flood was a flood (more than 1,000 connections)"
ok "holdingpend is still the same process" test "x$(hp_daemon_pid)" = "x$pid"
done_testing
