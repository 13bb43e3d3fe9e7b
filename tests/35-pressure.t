#!/bin/sh
# Memory pressure. Helpers ask to be spared by the OOM killer (oom_score_adj
# -1000). In a memory cgroup whose limit a hog has nearly filled, a claimant
# still maps and writes its whole memfd slot without being killed: the pages
# were made by the helper, outside the cgroup, and shmem pages stay charged
# to the cgroup that first faulted them. The same amount taken with malloc
# in that cgroup is refused (the OOM killer takes it).
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-kinds.sh"

MB=1048576
limit=$((48 * MB))
hog=$((40 * MB))
size=$((32 * MB))
hp_pool mem 32M 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
touch=$(hp_probe hp-probe-touch) || bail_out "cannot build hp-probe-touch"
helper=$(hpk_pool_helper mem) || bail_out "cannot find the helper of pool mem"

# --- oom_score_adj ---
ok "the helper tried to protect itself: it writes /proc/self/oom_score_adj (or says why it could not)" \
  eval 'test "$(cat "/proc/$helper/oom_score_adj")" = -1000 || hp_log_has "^holdingpen-helper: warning: .*oom_score_adj"'
if why=$(sh -c 'exec env echo -1000 > /proc/self/oom_score_adj' 2>&1) ; then
  is "$(cat "/proc/$helper/oom_score_adj")" -1000 "the helper's oom_score_adj is -1000"
else
  note "the helper's attempt: $(grep -m 1 'oom_score_adj' "$T/log")"
  skip "this machine refuses oom_score_adj -1000 even to this test ($(id -un)): $(printf '%s' "$why" | sed 's/.*: //' | head -n 1)"
fi

# --- a memory cgroup nearly full ---
if ! hpk_memcg $limit ; then
  skip "$HPK_WHY" 9
  done_testing
fi
note "memory cgroup v$HPK_CG_V, limit $((limit / MB))M"
hpk_cg_bg "$touch" anon $hog 120 > "$T/hog.out" 2>&1
hogpid=$HP_BG_PID
ok "a hog in the cgroup takes $((hog / MB))M of its $((limit / MB))M" hp_until 10000 grep -q '^touched=' "$T/hog.out"
used=$(hpk_cg_usage)
cmp_ok $((limit - used)) -lt $((size / 2)) "less than half a slot is left in the cgroup ($(( (limit - used) / 1024 )) kB)"

# the claimant: maps the slot, writes every page, then holds it a little
hpk_cg_bg timeout -s KILL 30 "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" mem "$touch" fd 2 > "$T/claimant.out" 2>&1
claimant=$HP_BG_PID
ok "a claimant in the cgroup maps and writes the whole 32M slot" hp_until 10000 grep -q "^touched=$size\$" "$T/claimant.out"
used2=$(hpk_cg_usage)
cmp_ok $((used2 - used)) -lt $((4 * MB)) "the slot's pages are not charged to the cgroup (usage grew by $(( (used2 - used) / 1024 )) kB)"
wait "$claimant"
is "$?" 0 "the claimant exited normally: it was not killed"
ok "the hog was not killed either" hp_alive "$hogpid"

# the same 32M with malloc, in the same cgroup
kills0=$(hpk_cg_oom_kills)
hpk_cg_run sh -c 'echo 1000 > /proc/self/oom_score_adj ; exec "$@"' sh timeout -s KILL 30 "$touch" anon $size > "$T/malloc.out" 2>&1
rc=$?
isnt "$rc" 0 "the same 32M taken with malloc in the cgroup fails (exit $rc)"
ok "it never finished writing them" eval '! grep -q "^touched=" "$T/malloc.out"'
cmp_ok "$(hpk_cg_oom_kills)" -gt "$kills0" "the cgroup's OOM killer acted (oom_kill $kills0 -> $(hpk_cg_oom_kills))"

done_testing
