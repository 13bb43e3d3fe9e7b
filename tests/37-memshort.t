#!/bin/sh
# A helper looks before it takes memory: in a memory cgroup that cannot hold
# its slot, a memfd pool (and a ballast-mem one) goes short, with the reason,
# instead of calling in the OOM killer; nothing in the cgroup is OOM-killed;
# once the limit is raised, the slot becomes ready.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-kinds.sh"

MB=1048576
hpk_memcg $((256 * MB)) || skip_all "$HPK_WHY"
note "memory cgroup v$HPK_CG_V, limit 256M"

# The whole supervision tree runs in the cgroup: hp_start_supervised starts
# s6-svscan through $PATH, and this wrapper comes first there.
mkdir "$T/bin"
printf '#!/bin/sh\necho $$ > %s/cgroup.procs && exec %s "$@"\n' "$(hp__quote "$HPK_CG")" "$(hp__quote "$(command -v s6-svscan)")" > "$T/bin/s6-svscan"
chmod 755 "$T/bin/s6-svscan"
PATH="$T/bin:$PATH"

# raise BYTES: the cgroup's limit
raise() {
  if test "$HPK_CG_V" = 2 ; then echo "$1" > "$HPK_CG/memory.max" ; else echo "$1" > "$HPK_CG/memory.limit_in_bytes" ; fi
}

hp_pool m 320M 1
hp_pool b 320M 1 kind=ballast-mem
hp_start_supervised -p "$T/pools"
ok "the daemon runs in the cgroup" hp_until 5000 eval 'test -n "$(hp_daemon_pid)" && grep -qx "$(hp_daemon_pid)" "$HPK_CG/cgroup.procs"'

ok "pool m goes short (event=helper-short)" hp_until 10000 hp_log_kv_has event=helper-short pool=m
ok "pool b goes short (event=helper-short)" hp_until 10000 hp_log_kv_has event=helper-short pool=b
ok "the helper says why: the cgroup" hp_log_has '^holdingpen-helper: warning: pool m: short: cgroup: '
ok "log: event=helper-short pool=m reason=cgroup" hp_log_kv_has event=helper-short pool=m reason=cgroup
ok "log: event=helper-short pool=b reason=cgroup" hp_log_kv_has event=helper-short pool=b reason=cgroup
ok "for 3 s nothing in the cgroup is OOM-killed" hp_stays 3000 eval 'test "$(hpk_cg_oom_kills)" -eq 0'
is "$(hp_field m ready)" 0 "status: m has no ready slot"
cmp_ok "$(hpk_cg_usage)" -lt $((256 * MB)) "the cgroup is below its limit ($(( $(hpk_cg_usage) / MB ))M)"
is "$(hp_log_kv_count event=helper-spawn pool=m)" 1 "the helper of m was spawned once: it never died"

raise $((1024 * MB))
ok "the limit raised to 1G, m becomes ready" hp_until 70000 hp_field_is m ready 1
ok "and b" hp_until 70000 hp_field_is b ready 1
is "$(hpk_cg_oom_kills)" 0 "still no OOM kill in the cgroup"
out=$(hp_claim m sh -c 'echo "$HOLDINGPEN_SIZE"')
is "$out" $((320 * MB)) "a claim on m gets its 320M slot"

done_testing
