#!/bin/sh
# Eleven connections, opened and closed in a certain order by a user with
# no rights at all, used to hang holdingpend for good at 100% CPU: when
# their request timeouts fired, the timer tree (skalibs' growing avltree,
# corrupted once its storage grew after deletions) had a cycle, and the
# loop walked it forever. After the same sequence, and after a flood of
# short connections, the daemon must answer a claim and a status within
# a second.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hp_setup
hpp_open_tmp
probe=$(hp_probe hp-probe-hostile) || bail_out "cannot build hp-probe-hostile"

R="$T/rules"
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hp_pool p 4M 1
hp_start_supervised -i "$R" -p "$T/pools" -t 1000
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)

answers () {
  timeout -s KILL 1 "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -n p true \
   && timeout -s KILL 1 "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" -k > /dev/null
}

# open 8, close the first, open 3: eleven connections, then their timeouts
out=$(s6-applyuidgid -u 65534 -g 65534 -G "" "$probe" "$HP_SOCKET" churn "+8,<1,+3" 2)
is "$out" "open=10" "nobody opened 11 connections and closed one"
ok "after their timeouts, a claim and a status are answered within a second each" answers
ok "holdingpend is still the same process" test "x$(hp_daemon_pid)" = "x$pid"

# churn: many rounds of opening and closing, then silence until the timeouts fire
churners=
for r in 1 2 3 4 5 6 ; do
  s6-applyuidgid -u 65534 -g 65534 -G "" "$probe" "$HP_SOCKET" churn +5,-2,+7,-3,+4 0 > /dev/null &
  hp_track $!
  churners="$churners $!"
done
s6-applyuidgid -u 65534 -g 65534 -G "" "$probe" "$HP_SOCKET" churn +9,-4,+6 2 > /dev/null
# shellcheck disable=SC2086
wait $churners
sleep 1.5
ok "after a churn of connections and their timeouts, a claim and a status are answered" answers
ok "holdingpend is still the same process after the churn" test "x$(hp_daemon_pid)" = "x$pid"
hp_stop
nok "the log has no fatal line" hp_log_has 'fatal'
done_testing
