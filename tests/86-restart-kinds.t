#!/bin/sh
# Across a restart of the broker (holdingpend -f): a ballast lease stays
# released (free memory does not drop), a file pool's reservations stay
# (the filesystem's free space does not drop), a careful kill under way at
# the restart goes on (expire and revoke), and s6-svc -d gives back within
# -F seconds what no lease holds, the rest when its lease ends.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-kinds.sh"
. "$HP_TESTDIR/lib-keep.sh"

MB=1048576
fs="$T/fs"
hpk_tmpfs "$fs" 24m || skip_all "$HPK_WHY"
mkdir "$fs/f"
hp_pool bm 64M 1 kind=ballast-mem
hp_pool f 8M 2 kind=file "dir=$fs/f"
hp_pool e 4M 1 expire=1 killdelay=3
hp_pool r 4M 1 killdelay=3
hpf_fdholder
shmem0=$(hp_shmem)
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER" -F 3
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up || bail_out "the daemon did not become ready"

# --- a ballast lease and a file lease across a SIGKILL ---
hp_hold b bm
hp_hold fa f
ok "a ballast holder and a file holder" hp_until 5000 eval 'hp_holds b && hp_holds fa'
shmem1=$(hp_shmem)
avail1=$(hpk_avail "$fs")
pid=$(hp_daemon_pid)
( while : ; do echo "$(hp_shmem) $(hpk_avail "$fs")" ; sleep 0.02 ; done ) > "$T/samples" &
sampler=$! ; hp_track "$sampler"
kill -KILL "$pid"
hpf_wait_restart "$pid"
is "$?" 0 "after SIGKILL a new holdingpend is up and ready"
sleep 0.3
kill "$sampler" ; wait "$sampler" 2> /dev/null
# the ballast is a memfd: were it reserved again, Shmem would rise by 64M
maxshmem=$(awk '{ print $1 }' "$T/samples" | sort -n | tail -n 1)
minavail=$(awk '{ print $2 }' "$T/samples" | sort -n | head -n 1)
note "Shmem before $shmem1, highest during the restart $maxshmem; fs free before $avail1, lowest $minavail"
cmp_ok $((maxshmem - shmem1)) -le $((8 * MB + $(hp_shmem_slack))) "the released ballast (64M) was not reserved again at the restart: Shmem rose by less than a file slot"
cmp_ok $((avail1 - minavail)) -le $((8 * MB)) "the file pool's filesystem lost at most one slot of free space"
is "$(hp_field bm held)" 1 "the ballast lease is still held"
is "$(hp_field f held)" 1 "the file lease is still held"
is "$(hp_field f ready)" 1 "the file pool's free slot is ready"
kill "$HOLD_b" "$HOLD_fa"
ok "their leases end when their holders do" hp_until 5000 eval 'hp_field_is bm held 0 && hp_field_is f held 0'
ok "and the slots are ready again" hp_until 10000 eval 'hp_field_is bm ready 1 && hp_field_is f ready 2'

# --- a careful kill under way at the restart goes on ---
# the holders are background sleeps: they ignore SIGINT and die of SIGTERM
hp_hold x e
hp_hold y r
ok "holders on e (expire 1 s) and r" hp_until 5000 eval 'hp_holds x && hp_holds y'
"$HP_BUILD/holdingpen-revoke" -s "$HP_SOCKET" "$(hp_lease y)"
is "$?" 0 "y's lease is revoked"
ok "x's lease expires: the careful kill starts" hp_until 5000 hp_log_kv_has event=expire pool=e
ok "both got their SIGCONT" hp_until 3000 eval 'test "$(hp_log_kv_count event=kill signal=CONT)" -ge 2'
pid=$(hp_daemon_pid)
cont=$(hp_log_kv_count event=kill signal=CONT)
kill -KILL "$pid"
hpf_wait_restart "$pid"
is "$?" 0 "after SIGKILL a new holdingpend is up"
is "$(hp_status | grep -c '^lease=.* ending=1')" 2 "status: both leases are still ending"
ok "the new holdingpend sends SIGTERM to x" hp_until 10000 hp_log_kv_has event=kill lease="$(hp_lease x)" signal=TERM
ok "and to y" hp_until 10000 hp_log_kv_has event=kill lease="$(hp_lease y)" signal=TERM
ok "both holders die" hp_until 5000 hp_all_dead "$HOLD_x" "$HOLD_y"
ok "their leases end" hp_until 5000 eval 'hp_field_is e held 0 && hp_field_is r held 0'
is "$(hp_log_kv_count event=kill signal=CONT)" "$cont" "no sequence started over (no second SIGCONT)"

# --- s6-svc -d: nothing lingers beyond -F ---
hp_hold z f
ok "a holder on f" hp_until 5000 hp_holds z
# past -F, everything is still kept: refreshed, the held slot's resource too
sleep 4
is "$(s6-fdholder-list "$HPF_FDHOLDER" | grep -cE '^holdingpen/(slot|held)/')" 5 "after more than -F seconds the fd holder still keeps all 5 slots' resources, the held one's too"
is "$(s6-fdholder-list "$HPF_FDHOLDER" | grep -c "^holdingpen/lease/$(hp_lease z)/")" 1 "and z's lease"
pid=$(hp_daemon_pid)
helpers=$(hp_helper_pids "$pid")
s6-svc -d "$HP_SVC"
ok "the broker and its helpers are gone" hp_until 5000 hp_all_dead "$pid" $helpers
ok "within -F 3 s (and a second), the fd holder keeps nothing of holdingpen" \
  hp_until 5000 eval 'test -z "$(s6-fdholder-list "$HPF_FDHOLDER" | grep "^holdingpen/")"'
# what stays: the held file slot, on a tmpfs, which counts as Shmem
ok "the unheld reservations are given back: Shmem back to its level before the start, but the held file slot" \
  hp_until 3000 eval 'test $(($(hp_shmem) - shmem0)) -le $((8 * MB + $(hp_shmem_slack)))'
note "Shmem above its level before the start: $(($(hp_shmem) - shmem0)) bytes"
cmp_ok $((avail1 + 8 * MB - $(hpk_avail "$fs"))) -le $((8 * MB)) "only the held file slot's blocks are still taken"
kill "$HOLD_z"
ok "when the last holder goes, so does its slot" hp_until 5000 eval 'test $(( $(hpk_avail "$fs") )) -ge $((avail1 + 8 * MB))'
done_testing
