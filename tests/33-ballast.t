#!/bin/sh
# ballast-mem and ballast-disk pools: the helper holds the reservation
# (memory locked with mlock; an allocated file in dir, here on a private
# tmpfs) and frees it before the claim is answered, so the program finds the
# memory or the disk free when it starts; the claim brings a lease and no
# resource fd; when the lease ends the same helper reserves again.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-kinds.sh"

MB=1048576
slack=$((256 * 1024))
fs="$T/fs"
hpk_tmpfs "$fs" 24m || skip_all "$HPK_WHY"
mkdir "$fs/bd"

msize=$((32 * MB))
dsize=$((16 * MB))
hp_pool bm 32M 1 kind=ballast-mem
hp_pool bd 16M 1 kind=ballast-disk "dir=$fs/bd"
avail0=$(hpk_avail "$fs")
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
client=$(hp_probe hp-probe-client) || bail_out "cannot build hp-probe-client"

# --- ballast-mem ---
hm=$(hpk_pool_helper bm) || bail_out "cannot find the helper of pool bm"
if test -n "$HP_SANITIZED" ; then
  skip "AddressSanitizer makes mlock a no-op: the ballast is not really held in this build" 2
else
  cmp_ok "$(hpk_status_bytes "$hm" VmLck)" -ge "$msize" "ready: the helper of bm has the 32M locked (VmLck)"
  cmp_ok "$(hpk_status_bytes "$hm" VmRSS)" -ge "$msize" "and resident (VmRSS)"
fi
# The program looks at the helper as soon as it starts: the daemon must have
# waited for the helper to free the ballast before answering.
hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" bm sh -c '
  { echo "fd=${HOLDINGPEN_FD-unset}" ; echo "kind=$HOLDINGPEN_KIND" ; echo "size=$HOLDINGPEN_SIZE"
    echo "lease=$HOLDINGPEN_LEASE" ; echo "leasefd=$HOLDINGPEN_LEASEFD"
    awk '\''$1 == "VmLck:" { print "vmlck=" $2 * 1024 } $1 == "VmRSS:" { print "rss=" $2 * 1024 }'\'' "/proc/$0/status"
  } > "$1.tmp" && mv "$1.tmp" "$1" ; exec sleep 1000' "$hm" "$T/bm.out"
holder=$HP_BG_PID
ok "a claim on bm runs its program" hp_until 5000 test -s "$T/bm.out"
out=$(cat "$T/bm.out")
is "$(hpk_key "$out" fd)" unset "HOLDINGPEN_FD is not set: no resource fd"
is "$(hpk_key "$out" kind)" ballast-mem "HOLDINGPEN_KIND=ballast-mem"
is "$(hpk_key "$out" size)" "$msize" "HOLDINGPEN_SIZE is the pool's size"
like "$(hpk_key "$out" lease)" '^[0-9]+$' "HOLDINGPEN_LEASE is set: the claim is a lease"
is "$(hpk_key "$out" vmlck)" 0 "when the program starts the helper has nothing locked any more"
cmp_ok "$(hpk_key "$out" rss)" -lt "$msize" "and no longer holds the 32M resident"
ok "the helper holds nothing while the lease lasts" hp_stays 500 eval 'test "$(hpk_status_bytes "$hm" VmLck)" -eq 0'
is "$(hp_field bm held)" 1 "status: held=1"
kill -TERM "$holder"
if test -n "$HP_SANITIZED" ; then
  skip "AddressSanitizer makes mlock a no-op: the ballast is not really held in this build"
else
  ok "when the lease ends the same helper locks the 32M again" hp_until 5000 eval 'test "$(hpk_status_bytes "$hm" VmLck)" -ge "$msize"'
fi
ok "and the slot is ready" hp_until 5000 hp_field_is bm ready 1
ok "the helper is the same process" hp_alive "$hm"

out=$("$client" "$HP_SOCKET" claim bm nowait)
like "$out" '^answer=0 len=[0-9]+ nfds=0$' "wire: the claim is answered 0 with no fd attached"
like "$out" "^lease=[0-9]+ size=$msize kind=ballast-mem\$" "wire: with the lease id, the size and the kind"

# --- ballast-disk ---
hp_until 5000 hp_field_is bd ready 1
avail1=$(hpk_avail "$fs")
ok "ready: the free space dropped by 16M ($(( (avail0 - avail1) / 1024 )) kB)" hpk_near $((avail0 - avail1)) "$dsize" $slack
is "$(ls -A "$fs/bd")" "" "the ballast file has no name in dir"
# Only 8M are free while the ballast is held: the program can take 16M only
# if the helper freed them before the claim was answered.
hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" bd sh -c '
  { echo "fd=${HOLDINGPEN_FD-unset}" ; echo "kind=$HOLDINGPEN_KIND"
    stat -f -c "avail=%a*%S" "$0"
    if fallocate -l 16M "$0/program-file" ; then echo "alloc=ok" ; else echo "alloc=failed" ; fi
    rm -f "$0/program-file"
  } > "$1.tmp" && mv "$1.tmp" "$1" ; exec sleep 1000' "$fs/bd" "$T/bd.out"
holder=$HP_BG_PID
ok "a claim on bd runs its program" hp_until 5000 test -s "$T/bd.out"
out=$(cat "$T/bd.out")
is "$(hpk_key "$out" fd)" unset "HOLDINGPEN_FD is not set"
is "$(hpk_key "$out" kind)" ballast-disk "HOLDINGPEN_KIND=ballast-disk"
ok "when the program starts the free space is up by 16M" hpk_near $(($(hpk_key "$out" avail) - avail1)) "$dsize" $slack
is "$(hpk_key "$out" alloc)" ok "the program can allocate a 16M file where only 8M were free before the claim"
ok "the space stays free while the lease lasts" hp_stays 500 eval 'hpk_near "$(hpk_avail "$fs")" "$avail0" $slack'
kill -TERM "$holder"
ok "when the lease ends the helper reserves the 16M again" hp_until 5000 eval 'hpk_near "$(hpk_avail "$fs")" "$avail1" $slack'
ok "and the slot is ready" hp_until 5000 hp_field_is bd ready 1
is "$(ls -A "$fs/bd")" "" "dir has no entry"

is "$(hp_log_count 'event=helper-(crash|failed|error)')" 0 "no helper crashed"
hp_stop
ok "after the daemon stopped the free space is back" hp_until 5000 eval 'hpk_near "$(hpk_avail "$fs")" "$avail0" $slack'

done_testing
