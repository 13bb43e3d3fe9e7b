#!/bin/sh
# Pools with a lock file: the helper keeps the slot's pages locked in RAM
# (its VmLck covers the size) when the slot is ready, while it is held and
# again after a new reservation; a pool without lock locks nothing. When
# RLIMIT_MEMLOCK forbids the lock, the helper fails for good (100) with one
# line that names the pool and RLIMIT_MEMLOCK, and the daemon reports the
# slot failed. hugetlb pages cannot be swapped at all: the kernel does not
# count them in VmLck, so for them the test checks that the helper maps them.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-kinds.sh"

test "$(id -u)" -eq 0 || skip_all "needs root: it locks 48M and runs helpers as nobody"
id nobody > /dev/null 2>&1 || skip_all "no user nobody to run a helper without privileges"
test -z "$HP_SANITIZED" || skip_all "AddressSanitizer makes mlock a no-op, so locking cannot be observed in this build"

MB=1048576
size=$((16 * MB))
hps=$(hpk_hugepagesize)
hp_pool m 16M 2 lock=
hp_pool n 16M 1
huge=
if test -n "$hps" && hpk_hugepages_add 2 ; then
  huge=1
  hp_pool h $((2 * hps)) 1 kind=hugetlb lock=
else
  hugewhy=${HPK_WHY:-the kernel has no hugepages}
fi
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

helpers=$(hpk_pool_helpers m)
is "$(echo $helpers | wc -w | tr -d ' ')" 2 "pool m has its 2 helpers"
for hm in $helpers ; do
  cmp_ok "$(hpk_status_bytes "$hm" VmLck)" -ge "$size" "ready: helper $hm of pool m (lock) has VmLck >= 16M"
done
hn=$(hpk_pool_helper n) || bail_out "cannot find the helper of pool n"
is "$(hpk_status_bytes "$hn" VmLck)" 0 "pool n (no lock): its helper has VmLck 0"

# while held, then after the lease: still locked, and locked again
hp_hold a m
ok "a holder gets a slot of m" hp_until 5000 hp_holds a
for hm in $helpers ; do
  cmp_ok "$(hpk_status_bytes "$hm" VmLck)" -ge "$size" "while held: helper $hm still has the pages locked"
done
nready=$(hp_log_kv_count event=helper-ready pool=m)
kill -TERM "$HOLD_a"
ok "the lease ends and a fresh reservation is ready" hp_until 5000 eval 'test "$(hp_log_kv_count event=helper-ready pool=m)" -gt "$nready"'
for hm in $helpers ; do
  cmp_ok "$(hpk_status_bytes "$hm" VmLck)" -ge "$size" "after the new reservation: helper $hm has VmLck >= 16M"
done

if test -n "$huge" ; then
  hh=$(hpk_pool_helper h) || bail_out "cannot find the helper of pool h"
  cmp_ok "$(hpk_status_bytes "$hh" HugetlbPages)" -ge $((2 * hps)) "hugetlb with lock: the helper maps the slot's hugepages (HugetlbPages >= size)"
  note "hugetlb helper: VmLck $(hpk_status_bytes "$hh" VmLck) bytes (the kernel never counts hugetlb mappings there)"
else
  skip "no hugepages for a hugetlb pool: $hugewhy"
fi
hp_stop

# --- RLIMIT_MEMLOCK: the helper alone, as nobody, with a 64K limit ---
for k in memfd ballast-mem ; do
  s6-softlimit -l 65536 s6-setuidgid nobody "$HP_BUILD/holdingpen-helper" -l -p t $k 16M < /dev/null > /dev/null 2> "$T/rl.err"
  is "$?" 100 "helper -l $k 16M as nobody under a 64K RLIMIT_MEMLOCK exits 100 (fails for good)"
  like "$(grep fatal "$T/rl.err")" '^holdingpen-helper: fatal: pool t: .*RLIMIT_MEMLOCK' "one fatal line naming the pool and RLIMIT_MEMLOCK"
done
if test -n "$huge" ; then
  s6-softlimit -l 65536 s6-setuidgid nobody "$HP_BUILD/holdingpen-helper" -l -p t hugetlb $((2 * hps)) < /dev/null > /dev/null 2> "$T/rl.err"
  is "$?" 100 "helper -l hugetlb as nobody under a 64K RLIMIT_MEMLOCK exits 100"
  like "$(grep fatal "$T/rl.err")" '^holdingpen-helper: fatal: pool t: .*RLIMIT_MEMLOCK' "with the same line"
else
  skip "no hugepages for a hugetlb pool: $hugewhy" 2
fi

# --- the same through a daemon running as nobody ---
mkdir -p "$T/pools-nobody/m"
echo 16M > "$T/pools-nobody/m/size"
: > "$T/pools-nobody/m/lock"
chmod 755 "$T" "$T/pools-nobody" "$T/pools-nobody/m"
hp_bg s6-ipcserver-socketbinder "$T/nobody.socket" s6-softlimit -l 65536 s6-setuidgid nobody "$HP_BUILD/holdingpend" -1 -p "$T/pools-nobody" -H "$HP_BUILD/holdingpen-helper" > "$T/nobody.ready" 2> "$T/nobody.log"
ok "a daemon as nobody becomes ready: its only slot failed for good" hp_until 10000 test -s "$T/nobody.ready"
ok "log: event=helper-failed pool=m" grep -q 'event=helper-failed pool=m .*exitcode=100' "$T/nobody.log"
ok "log: the helper's line names RLIMIT_MEMLOCK" grep -q '^holdingpen-helper: fatal: pool m: .*RLIMIT_MEMLOCK' "$T/nobody.log"
is "$(grep -c 'event=helper-spawn pool=m ' "$T/nobody.log")" 1 "the helper was not respawned"
st=$(timeout -s KILL 20 "$HP_BUILD/holdingpen-status" -s "$T/nobody.socket" -k m)
like "$st" '(^| )failed=1( |$)' "holdingpen-status: failed=1"

done_testing
