#!/bin/sh
# After 1,000 claim/exit cycles the daemon's open fds and RSS, the helpers'
# fds and the machine's Shmem are back where they were after a warm-up.
. "$(dirname "$0")/lib.sh"

MB=1048576
hp_pool cyc 1M 2
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)
claim=$HP_BUILD/holdingpen-claim

# cycles N: N sequential claim/exit cycles with a trivial prog; prints the
# number of failed ones. Each claim waits for a slot if both are scrubbing.
cycles() {
  _f=0 _i=0
  while test $_i -lt "$1" ; do
    timeout -s KILL 30 "$claim" -s "$HP_SOCKET" cyc true || _f=$((_f + 1))
    _i=$((_i + 1))
  done
  echo $_f
}

helper_fds() {
  _s=0
  for _h in $(hp_helper_pids "$pid") ; do _s=$((_s + $(hp_fd_count "$_h"))) ; done
  echo $_s
}

settled() {
  hp_field_is cyc ready 2 && hp_field_is cyc held 0
}

is "$(cycles 50)" 0 "warm-up: 50 cycles, all exit 0"
ok "warm-up: both slots ready" hp_until 5000 settled
fd0=$(hp_fd_count "$pid")
rss0=$(hp_rss_kb "$pid")
hfd0=$(helper_fds)
shmem0=$(hp_shmem)
grants0=$(hp_log_kv_count event=grant pool=cyc)
releases0=$(hp_log_kv_count event=release pool=cyc)
note "baseline: daemon fds $fd0, RSS $rss0 kB; helpers' fds $hfd0; Shmem $((shmem0 / 1024)) kB"

t0=$(hp_now_ms)
is "$(cycles 1000)" 0 "1000 claim/exit cycles, all exit 0"
note "1000 cycles in $(($(hp_now_ms) - t0)) ms"
ok "both slots ready afterwards" hp_until 5000 settled
is "$(hp_daemon_pid)" "$pid" "same daemon process"

# fds: exactly as before (polled a little: the last release may be in flight)
hp_until 3000 eval 'test "$(hp_fd_count "$pid")" -eq "$fd0"'
is "$(hp_fd_count "$pid")" "$fd0" "the daemon's open fds are back to $fd0"
hp_until 3000 eval 'test "$(helper_fds)" -eq "$hfd0"'
is "$(helper_fds)" "$hfd0" "the helpers' open fds are back to $hfd0"
rss1=$(hp_rss_kb "$pid")
note "daemon RSS after: $rss1 kB (before: $rss0 kB)"
if test -n "$HP_SANITIZED" ; then
  skip "AddressSanitizer's quarantine keeps freed memory on purpose: RSS says nothing in this build"
else
  cmp_ok "$rss1" -le $((rss0 + 256)) "the daemon's RSS grew by at most 256 kB"
fi
# 1000 leaked 1M slots would be 1000M; allow other users of the machine 16M,
# and sample for up to 3 s (Shmem is the whole machine's)
shmem_back() {
  shmem1=$(hp_shmem)
  test $((shmem1 - shmem0)) -lt $((16 * MB))
}
ok "Shmem is back (less than 16M above the baseline)" hp_until 3000 shmem_back
note "Shmem after: $((shmem1 / 1024)) kB"
is $(($(hp_log_kv_count event=grant pool=cyc) - grants0)) 1000 "log: 1000 grant lines"
is $(($(hp_log_kv_count event=release pool=cyc) - releases0)) 1000 "log: 1000 release lines"
ok "log: no slot granted twice" hp_log_no_double_grant

done_testing
