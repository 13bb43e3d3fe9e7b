#!/bin/sh
# A restart takes back many leases: more records than one message can
# carry fds (the kernel's 253). 100 leases held by one process, each with
# its connection, its holder's pidfd and its held resource kept, and 50
# ready slots: after a SIGKILL of holdingpend, every lease is held again,
# every ready slot is ready without being reserved anew, and the log's
# restore line says so. s6_fdholder_getdump fails past 253 fds with the
# skalibs of Debian 12 (doc/holdingpend-inside.html): holdingpend lists
# and retrieves instead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"

hold=$HP_BUILD/bench/hp-bench-hold
test -x "$hold" || skip_all "no bench/hp-bench-hold (make bench)"
hp_pool m 64K 150
hpf_fdholder
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER" -c 400 -C 0
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up 30000 || bail_out "the daemon did not become ready"

mkfifo "$T/stdin"
"$hold" 100 "$HP_SOCKET" m < "$T/stdin" > "$T/held" 2>&1 &
holder=$!
hp_track "$holder"
exec 7> "$T/stdin"
ok "one process holds 100 leases" hp_until 20000 grep -q '^held 100' "$T/held"
ok "the fd holder keeps more than 253 records" hp_until 10000 eval 'test "$(s6-fdholder-list "$HPF_FDHOLDER" | grep -c "^holdingpen/")" -gt 253'
ok "every lease's held resource is kept" hp_until 10000 eval 'test "$(s6-fdholder-list "$HPF_FDHOLDER" | grep -c "^holdingpen/held/")" -eq 100'
before=$(hpf_leases)
pid=$(hp_daemon_pid)
kill -KILL "$pid"
hpf_wait_restart "$pid"
is "$?" 0 "after SIGKILL a new holdingpend is up"
is "$(hpf_leases)" "$before" "the same 100 leases are held"
ok "the log says so" hp_log_kv_has event=restore leases=100 slots=150 dropped=0
ok "status: 50 ready, once their helpers have them back" hp_until 10000 hp_field_is m ready 50
exec 7>&-
ok "once the holder goes, every slot is ready again" hp_until 20000 hp_field_is m ready 150
done_testing
