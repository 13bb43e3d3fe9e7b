#!/bin/sh
# hugetlb pools: a size that is not a whole number of hugepages is refused at
# start-up with one line naming the pool and the file; the slots are
# MFD_HUGETLB memfds taken from the kernel's hugepage pool when the daemon is
# ready (HugePages_Free drops by count x size / hugepagesize), of the pool's
# size; a leaked fd keeps no hugepage after its lease ended, and the next
# holder reads zeros; when the kernel pool is too small, the helper says so
# naming vm.nr_hugepages, the slot is short, and it becomes ready once the
# pool is raised. The test raises vm.nr_hugepages itself and lowers it again.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-kinds.sh"

hps=$(hpk_hugepagesize)
test -n "$hps" && test "$hps" -gt 0 || skip_all "the kernel has no hugepages (no Hugepagesize in /proc/meminfo)"

# --- a bad pooldir: the size is not a multiple of the hugepage size ---
mkdir -p "$T/bad/odd"
echo hugetlb > "$T/bad/odd/kind"
echo $((hps + 4096)) > "$T/bad/odd/size"
s6-ipcserver-socketbinder "$T/bad.socket" "$HP_BUILD/holdingpend" -p "$T/bad" -H "$HP_BUILD/holdingpen-helper" < /dev/null > /dev/null 2> "$T/bad.err"
is "$?" 100 "holdingpend -p on a pooldir whose hugetlb size is hugepagesize + 4K exits 100"
is "$(wc -l < "$T/bad.err" | tr -d ' ')" 1 "with exactly one line on stderr"
like "$(cat "$T/bad.err")" '^holdingpend: fatal: pool odd: file size: .*hugepage' "the line names the pool and the file, and says why"

# --- 2 slots of 2 hugepages each ---
per=2
count=2
need=$((count * per))
if ! hpk_hugepages_add $need ; then
  skip "cannot raise vm.nr_hugepages: $HPK_WHY" 27
  done_testing
fi
size=$((per * hps))
hp_pool huge "$size" $count kind=hugetlb
free0=$(hpk_meminfo HugePages_Free)
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
free1=$(hpk_meminfo HugePages_Free)
is "$((free0 - free1))" "$need" "at ready time HugePages_Free dropped by count x size / hugepagesize = $need"
is "$(hp_field huge ready)" $count "both slots are ready"

kindp=$(hp_probe hp-probe-kind) || bail_out "cannot build hp-probe-kind"
read=$(hp_probe hp-probe-read) || bail_out "cannot build hp-probe-read"
leak=$(hp_probe hp-probe-leak) || bail_out "cannot build hp-probe-leak"

out=$(hp_claim huge "$kindp")
is "$?" 0 "a claim on the hugetlb pool runs its program"
is "$(hpk_key "$out" kind)" hugetlb "HOLDINGPEN_KIND=hugetlb"
is "$(hpk_key "$out" has_fd)" 1 "HOLDINGPEN_FD is set"
is "$(hpk_key "$out" memfd)" 1 "the fd is a memfd"
is "$(hpk_key "$out" hugetlb)" 1 "on hugetlbfs: its pages come from the hugepage pool (fstatfs)"
is "$(hpk_key "$out" size)" "$size" "st_size is the pool's size, $per hugepages"
is "$(hpk_key "$out" blksize)" "$hps" "st_blksize is the hugepage size"
ok "HugePages_Free did not move for the claim: the pages were taken in advance" hp_until 3000 eval 'test "$(hpk_meminfo HugePages_Free)" -eq "$free1"'

# --- a holder leaks its fd and a mapping to a child that outlives the lease ---
hp_until 5000 hp_field_is huge ready $count
nready=$(hp_log_kv_count event=helper-ready pool=huge)
out=$(hp_claim huge "$leak" "$T/report" 60)
is "$?" 0 "a holder writes the pattern over its slot, leaks the fd to a child and exits"
child=$(printf '%s\n' "$out" | sed -n 's/^child=//p')
hp_track $child
ok "the child with the leaked fd is alive" hp_alive "$child"
ok "the slot was scrubbed and reserved again (helper-ready)" hp_until 5000 eval 'test "$(hp_log_kv_count event=helper-ready pool=huge)" -gt "$nready"'
# Had the old pages stayed with the leaked fd, the fresh reservation would
# have taken $per more hugepages (or found none).
ok "HugePages_Free is back at its ready level: the leaked fd holds no hugepage" hp_until 5000 eval 'test "$(hpk_meminfo HugePages_Free)" -eq "$free1"'
hpk_leak_and_next_are_clean "$child" huge "$read" "$size"

# --- the kernel pool too small: a clear line naming vm.nr_hugepages, then recovery ---
ok "both slots ready" hp_until 5000 hp_field_is huge ready $count
freeb=$(hpk_meminfo HugePages_Free)
bigpages=$((freeb + 1))
hp_pool big $((bigpages * hps)) 1 kind=hugetlb
s6-svc -h "$HP_SVC"
ok "a pool needing one hugepage more than is free is short (helper-short)" hp_until 10000 hp_log_kv_has event=helper-short pool=big
ok "the helper's warning names the pool and vm.nr_hugepages" hp_log_has '^holdingpen-helper: warning: .*pool big .*vm\.nr_hugepages'
like "$(grep 'pool big .*vm.nr_hugepages' "$T/log" | head -n 1)" 'No space left on device|Cannot allocate memory' "and says what the kernel answered"
is "$(hp_field big short)" 1 "holdingpen-status: short=1 for that pool"
is "$(hp_field big ready)" 0 "and ready=0"
if hpk_hugepages_add 1 ; then
  ok "once vm.nr_hugepages is raised, the slot becomes ready within the backoff" hp_until 10000 hp_field_is big ready 1
  is "$(hp_field big short)" 0 "short=0"
else
  skip "cannot raise vm.nr_hugepages by one more: $HPK_WHY" 2
fi

# --- everything back when the daemon stops ---
kill -TERM "$child" 2>/dev/null
hp_until 3000 hp_dead "$child"
hp_stop
ok "after the daemon stopped, HugePages_Free is back where it was before it started (plus the page added since)" \
  hp_until 5000 eval 'test "$(hpk_meminfo HugePages_Free)" -eq $((free0 + HPK_HUGE_ADDED - need))'

done_testing
