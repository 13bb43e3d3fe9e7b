#!/bin/sh
# A file pool whose filesystem fills up while a lease is held: when the lease
# ends the re-reservation fails with ENOSPC. The helper says so once (its
# warning, event=helper-short, status short=1), backs off without spinning
# and without dying, and the slot becomes ready by itself once space returns,
# within the backoff (1 s doubling). The filesystem is a private 40M tmpfs.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-kinds.sh"

MB=1048576
fs="$T/fs"
hpk_tmpfs "$fs" 40m || skip_all "$HPK_WHY"
mkdir "$fs/f"

kindp=$(hp_probe hp-probe-kind) || bail_out "cannot build hp-probe-kind"
hp_pool f 16M 1 kind=file "dir=$fs/f"
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
helper=$(hpk_pool_helper f) || bail_out "cannot find the helper of pool f"
daemon=$(hp_daemon_pid)

# The holder gives its blocks back (it may: the file is its own while the
# lease lasts), then something else takes every free block.
hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" f sh -c 'truncate -s 0 "/proc/self/fd/$HOLDINGPEN_FD" && echo truncated > "$0" ; exec sleep 1000' "$T/holder.out"
holder=$HP_BG_PID
ok "a holder gets the slot and empties its file" hp_until 5000 test -s "$T/holder.out"
fallocate -l "$(hpk_avail "$fs")" "$fs/filler"
cmp_ok "$(hpk_avail "$fs")" -lt $((16 * MB)) "the filesystem is full (less than a slot free)"
kill -TERM "$holder"
ok "when the lease ends the re-reservation fails: event=helper-short" hp_until 5000 hp_log_kv_has event=helper-short pool=f
like "$(grep '^holdingpen-helper: warning:.* pool f ' "$T/log" | head -n 1)" "reserve for pool f in $fs/f: No space left on device" "the helper's warning names the pool, the directory and the error"
is "$(hp_field f short)" 1 "holdingpen-status: short=1"
is "$(hp_field f ready)" 0 "ready=0"
hp_claim -n f true 2> /dev/null
is "$?" 5 "a claim with -n finds no slot (5)"

t0=$(hpk_cputicks "$helper")
d0=$(hpk_cputicks "$daemon")
sleep 3
t1=$(hpk_cputicks "$helper")
d1=$(hpk_cputicks "$daemon")
hz=$(getconf CLK_TCK)
ok "the helper is the same process, still backing off" hp_alive "$helper"
is "$(hp_log_count 'event=helper-(crash|failed|error)')" 0 "no helper died or was restarted"
cmp_ok $((t1 - t0)) -le $((hz / 20)) "the helper used at most 50 ms of CPU in 3 s: no spin ($((t1 - t0)) ticks)"
cmp_ok $((d1 - d0)) -le $((hz / 20)) "so did the daemon ($((d1 - d0)) ticks)"
is "$(hp_log_kv_count event=helper-short pool=f)" 1 "helper-short was logged once, not at every retry"

rm -f "$fs/filler"
start=$(hp_now_ms)
ok "once space returns the slot becomes ready by itself, within the backoff" hp_until 10000 hp_field_is f ready 1
elapsed=$(($(hp_now_ms) - start))
cmp_ok "$elapsed" -le 8500 "within about 8 s ($elapsed ms)"
is "$(hp_field f short)" 0 "short=0"
out=$(hp_claim f "$kindp")
cmp_ok "$(hpk_key "$out" blocks_bytes)" -ge $((16 * MB)) "the next holder gets a file with its 16M allocated"
ok "the helper is still the same process" hp_alive "$helper"

done_testing
