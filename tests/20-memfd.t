#!/bin/sh
# A claimed fd is a memfd of exactly the pool's size, sealed against grow and
# shrink (and against new seals), read-write, with its pages already resident
# when the holder maps it; the environment describes it; -d puts it in place.
. "$(dirname "$0")/lib.sh"

MB=1048576
hp_pool mem 8M 1
hp_pool odd 12K 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

probe=$(hp_probe hp-probe-memfd) || bail_out "cannot build hp-probe-memfd"
page=$(getconf PAGESIZE)

# key K: the value of K in the probe's output
key() {
  printf '%s\n' "$out" | awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2) ; exit }'
}

out=$(hp_claim mem "$probe" 2> "$T/err")
rc=$?
is "$rc" 0 "holdingpen-claim mem hp-probe-memfd exits 0"
test $rc -eq 0 || diag "$(cat "$T/err")"
is "$(key is_memfd)" 1 "the fd is a memfd (/proc/self/fd/N -> /memfd:...)"
is "$(key size)" $((8 * MB)) "st_size is exactly the pool's size"
is "$(key env_size)" $((8 * MB)) "HOLDINGPEN_SIZE is the pool's size in bytes"
is "$(key kind)" memfd "HOLDINGPEN_KIND=memfd"
is "$(key rdwr)" 1 "the fd is open read-write"
is "$(key seal_grow)" 1 "F_SEAL_GROW is set"
is "$(key seal_shrink)" 1 "F_SEAL_SHRINK is set"
is "$(key seal_seal)" 1 "F_SEAL_SEAL is set"
is "$(key seal_write)" 0 "F_SEAL_WRITE is not set (the holder must be able to write)"
is "$(key leasefd_socket)" 1 "HOLDINGPEN_LEASEFD is a socket (the lease)"
is "$(key pages)" $((8 * MB / page)) "8M is $((8 * MB / page)) pages"
is "$(key resident)" "$(key pages)" "every page is resident after mmap, before any access (mincore)"
is "$(key majflt)" 0 "touching every page costs no major fault"
cmp_ok "$(key minflt)" -le "$(key pages)" "and at most one minor fault per page"
is "$(key resident_after)" "$(key pages)" "every page still resident after the writes"

out=$(hp_claim odd "$probe")
is "$(key size)" 12288 "a 12K pool gives an fd of exactly 12288 bytes"
is "$(key resident)" 3 "its 3 pages are resident"

# the environment of the program
out=$(hp_claim mem sh -c 'echo "pool=$HOLDINGPEN_POOL" ; echo "kind=$HOLDINGPEN_KIND" ; echo "size=$HOLDINGPEN_SIZE" ; echo "lease=$HOLDINGPEN_LEASE" ; echo "fd=$HOLDINGPEN_FD" ; echo "leasefd=$HOLDINGPEN_LEASEFD"')
is "$(key pool)" mem "HOLDINGPEN_POOL is the pool's name"
like "$(key lease)" '^[0-9]+$' "HOLDINGPEN_LEASE is a decimal id"
like "$(key fd)" '^[0-9]+$' "HOLDINGPEN_FD is a decimal fd"
like "$(key leasefd)" '^[0-9]+$' "HOLDINGPEN_LEASEFD is a decimal fd"
isnt "$(key fd)" "$(key leasefd)" "the resource fd and the lease fd differ"
lease=$(key lease)
ok "log: grant line for that lease" hp_log_kv_has event=grant pool=mem "lease=$lease"
ok "log: release line for that lease" hp_until 5000 hp_log_kv_has event=release pool=mem "lease=$lease"

# -d fd: the resource fd on that number, inherited by the program's children
out=$(hp_claim -d 7 mem sh -c 'echo "fd=$HOLDINGPEN_FD" ; echo "link=$(readlink /proc/self/fd/7)"')
is "$(key fd)" 7 "with -d 7, HOLDINGPEN_FD=7"
like "$(key link)" '^/memfd:' "and fd 7 is the memfd, open across exec"

# the answer on the wire (doc/protocol): code 0, lease id, size, kind, one fd
client=$(hp_probe hp-probe-client) || bail_out "cannot build hp-probe-client"
# (waiting: the slot of the previous claim may still be scrubbing)
out=$("$client" "$HP_SOCKET" claim mem)
like "$out" '^answer=0 len=[0-9]+ nfds=1$' "wire: a claim is answered 0 with exactly one fd"
like "$out" "^lease=[0-9]+ size=$((8 * MB)) kind=memfd\$" "wire: the answer carries the lease id, the size and the kind"
out=$("$client" "$HP_SOCKET" claim nosuchpool nowait)
like "$out" '^answer=2 ' "wire: a claim on an unknown pool is answered 2"

done_testing
