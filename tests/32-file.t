#!/bin/sh
# file pools, on a private tmpfs made by the test: each slot is a file on
# dir's filesystem with its blocks really allocated (the free space drops by
# count x size when the daemon is ready; the holder's fstat shows st_blocks
# covering the size), without a name (O_TMPFILE: dir stays empty). When a
# lease ends the old file's blocks are freed even if the holder leaked the fd
# to a child, and a fresh file is reserved. Where O_TMPFILE is refused (here
# simulated with a seccomp filter), the fallback leaves no name behind either.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-kinds.sh"

MB=1048576
slack=$((256 * 1024))
fs="$T/fs"
hpk_tmpfs "$fs" 64m || skip_all "$HPK_WHY"
mkdir "$fs/f" "$fs/g"

kindp=$(hp_probe hp-probe-kind) || bail_out "cannot build hp-probe-kind"
read=$(hp_probe hp-probe-read) || bail_out "cannot build hp-probe-read"
leak=$(hp_probe hp-probe-leak) || bail_out "cannot build hp-probe-leak"
notmp=$(hp_probe hp-probe-notmpfile) || bail_out "cannot build hp-probe-notmpfile"

size=$((16 * MB))
hp_pool f 16M 2 kind=file "dir=$fs/f"
avail0=$(hpk_avail "$fs")
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
avail1=$(hpk_avail "$fs")
ok "at ready time the free space dropped by count x size = 32M ($(( (avail0 - avail1) / 1024 )) kB)" hpk_near $((avail0 - avail1)) $((2 * size)) $slack
is "$(ls -A "$fs/f")" "" "dir has no entry: the files have no name"

out=$(hp_claim f "$kindp")
is "$?" 0 "a claim on the file pool runs its program"
is "$(hpk_key "$out" kind)" file "HOLDINGPEN_KIND=file"
is "$(hpk_key "$out" has_fd)" 1 "HOLDINGPEN_FD is set"
is "$(hpk_key "$out" size)" "$size" "st_size is the pool's size"
cmp_ok "$(hpk_key "$out" blocks_bytes)" -ge "$size" "st_blocks x 512 covers the size: the blocks are allocated, not sparse"
is "$(hpk_key "$out" nlink)" 0 "st_nlink is 0"
is "$(hpk_key "$out" dev)" "$(stat -c %d "$fs/f")" "the file is on dir's filesystem (same st_dev)"
is "$(hpk_key "$out" memfd)" 0 "it is not a memfd"
like "$(hpk_key "$out" link)" "^$fs/f/.* \\(deleted\\)\$" "/proc/self/fd says: in dir, deleted"

# --- a holder leaks its fd and a mapping to a child that outlives the lease ---
hp_until 5000 hp_field_is f ready 2
nready=$(hp_log_kv_count event=helper-ready pool=f)
out=$(hp_claim f "$leak" "$T/report" 60)
is "$?" 0 "a holder writes the pattern over its file, leaks the fd to a child and exits"
child=$(printf '%s\n' "$out" | sed -n 's/^child=//p')
hp_track $child
ok "the child with the leaked fd is alive" hp_alive "$child"
ok "a fresh file was reserved (helper-ready)" hp_until 5000 eval 'test "$(hp_log_kv_count event=helper-ready pool=f)" -gt "$nready"'
# Had the old blocks stayed with the leaked fd, the free space would be 16M lower.
avail_back() { avail2=$(hpk_avail "$fs") ; hpk_near "$avail2" "$avail1" $slack ; }
ok "the free space is back at its ready level: the leaked fd holds no block" hp_until 5000 avail_back
note "free space ready: $((avail1 / 1024)) kB, after the leaked lease: $((avail2 / 1024)) kB"
is "$(ls -A "$fs/f")" "" "dir still has no entry"
hpk_leak_and_next_are_clean "$child" f "$read" "$size"

hp_until 3000 hp_dead "$child"
hp_stop
ok "after the daemon stopped, the free space is back" hp_until 5000 eval 'hpk_near "$(hpk_avail "$fs")" "$avail0" $slack'

# --- without O_TMPFILE: a named file, unlinked at once ---
mkdir -p "$T/pools-g/g"
echo file > "$T/pools-g/g/kind"
echo 8M > "$T/pools-g/g/size"
echo "$fs/g" > "$T/pools-g/g/dir"
avail0=$(hpk_avail "$fs")
hp_bg s6-ipcserver-socketbinder "$T/g.socket" "$notmp" "$HP_BUILD/holdingpend" -1 -p "$T/pools-g" -H "$HP_BUILD/holdingpen-helper" > "$T/g.ready" 2> "$T/g.log"
ok "a daemon whose helpers cannot use O_TMPFILE becomes ready" hp_until 10000 test -s "$T/g.ready"
ok "the free space dropped by 8M" hp_until 3000 eval 'hpk_near $((avail0 - $(hpk_avail "$fs"))) $((8 * MB)) $slack'
is "$(ls -A "$fs/g")" "" "dir has no entry: the fallback file was unlinked"
out=$(timeout -s KILL 60 "$HP_BUILD/holdingpen-claim" -s "$T/g.socket" g "$kindp")
like "$(hpk_key "$out" link)" "^$fs/g/\\.holdingpen-.* \\(deleted\\)\$" "the fd is the fallback's named file, deleted (so O_TMPFILE really was refused)"
is "$(hpk_key "$out" nlink)" 0 "st_nlink is 0"
cmp_ok "$(hpk_key "$out" blocks_bytes)" -ge $((8 * MB)) "its blocks are allocated"
ok "after the lease a fresh file is ready" hp_until 5000 eval 'test "$(grep -c "event=helper-ready pool=g " "$T/g.log")" -ge 2'
is "$(ls -A "$fs/g")" "" "and dir still has no entry"

done_testing
