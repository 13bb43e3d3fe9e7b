#!/bin/sh
# Out of fds (EMFILE), the daemon stops polling its listening socket until
# a connection goes away, and says so once: it does not spin on accept.
# The daemon runs with a limit of 32 open files (prlimit on its pid) and a
# client opens 200 connections and keeps them: its CPU time over 3 s stays
# low, the warning is logged once, and once the connections close it
# serves again.
. "$(dirname "$0")/lib.sh"
hp_setup
command -v prlimit > /dev/null 2>&1 || skip_all "prlimit is not installed (util-linux)"

hp_pool p 4M 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)
probe=$(hp_probe hp-probe-hostile) || bail_out "cannot build hp-probe-hostile"
prlimit --pid "$pid" --nofile=32:32 || bail_out "cannot set the daemon's fd limit"

# cpu: utime + stime of the daemon, in clock ticks (fields 14 and 15 of /proc/PID/stat)
cpu() {
  _s=$(cat "/proc/$pid/stat") || return 1
  _s=${_s##*) }
  # shellcheck disable=SC2086
  set -- $_s
  echo $((${12} + ${13}))
}
emfile() {
  hp_log_count 'accept.*Too many open files'
}

hp_bg "$probe" "$HP_SOCKET" hold 200 60 > "$T/flood.out"
flood=$HP_BG_PID
ok "the flood is connected" hp_until 5000 test -s "$T/flood.out"
note "$(cat "$T/flood.out")"
ok "the daemon runs out of fds and says so" hp_until 3000 eval 'test "$(emfile)" -ge 1'
c0=$(cpu)
sleep 3
c1=$(cpu)
hz=$(getconf CLK_TCK)
note "daemon CPU time over 3 s: $((c1 - c0)) ticks of 1/$hz s"
cmp_ok $((c1 - c0)) -le $((hz * 3 / 10)) "it does not spin: at most 0.3 s of CPU in 3 s"
is "$(emfile)" 1 "the condition is logged once"

kill "$flood"
wait "$flood" 2> /dev/null
ok "once the connections close, it serves again" hp_until 5000 hp_field_is p ready 1
out=$("$(hp_probe hp-probe-client)" "$HP_SOCKET" claim p nowait)
like "$out" '^answer=0 ' "a claim is granted"
is "$(hp_daemon_pid)" "$pid" "the daemon is the same process"
done_testing
