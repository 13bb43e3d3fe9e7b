#!/bin/sh
# A file slot's fd cannot be revoked: a holder's child that kept it writes
# into the old, unlinked file after the lease ended. The helper keeps its
# own copy, sees the blocks come back after its scrub, frees them again
# within its check interval (5 s), and reports it: a warning of its own,
# and event=leak on holdingpend's log with the lease and the bytes, and the
# pool's leaked= in status.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-kinds.sh"

MB=1048576
slack=$((256 * 1024))
fs="$T/fs"
hpk_tmpfs "$fs" 64m || skip_all "$HPK_WHY"
mkdir "$fs/f"
lw=$(hp_probe hp-probe-leakwrite) || bail_out "cannot build hp-probe-leakwrite"

hp_pool f 16M 1 kind=file "dir=$fs/f"
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
avail1=$(hpk_avail "$fs")
nready=$(hp_log_kv_count event=helper-ready pool=f)

out=$(hp_claim f "$lw" 1500 $((16 * MB)) "$T/done")
is "$?" 0 "a holder gives its fd to a child and exits"
lease=$(hpk_key "$out" lease)
child=$(hpk_key "$out" child)
hp_track $child
ok "a fresh file is reserved after the lease (helper-ready)" hp_until 5000 eval 'test "$(hp_log_kv_count event=helper-ready pool=f)" -gt "$nready"'
ok "the child writes 16M into the old file through its copy of the fd" hp_until 10000 test -s "$T/done"
is "$(cat "$T/done")" "written=$((16 * MB))" "all of it"
t0=$(hp_now_ms)
avail_back() { avail2=$(hpk_avail "$fs") ; hpk_near "$avail2" "$avail1" $slack ; }
ok "within 7 s the free space is back: the helper freed the leaked blocks" hp_until 7000 avail_back
note "freed after $(( $(hp_now_ms) - t0 )) ms; free space ready: $((avail1 / 1024)) kB, now $((avail2 / 1024)) kB"
ok "the helper says so" hp_until 2000 hp_log_has "^holdingpen-helper: warning: pool f: a copy of an ended lease's file was written to: freed $((16 * MB)) bytes\$"
ok "log: event=leak pool=f slot=0 lease=$lease bytes=$((16 * MB))" hp_until 2000 hp_log_kv_has event=leak pool=f slot=0 "lease=$lease" "bytes=$((16 * MB))"
is "$(hp_field f leaked)" $((16 * MB)) "status: pool f leaked=$((16 * MB))"
is "$(hp_log_kv_count event=helper-error pool=f)" 0 "the report is no protocol error"
is "$(hp_field f ready)" 1 "the slot is ready"
out=$(hp_claim f sh -c 'echo ok')
is "$out" ok "and serves a claim"
kill -TERM "$child"

done_testing
