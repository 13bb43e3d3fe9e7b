#!/bin/sh
# Bytes written by one holder are never readable by the next; a holder that
# leaked its memfd to another process does not keep the memory after the
# lease ended (Shmem comes back), and the leaked copy sees nothing more.
. "$(dirname "$0")/lib.sh"

MB=1048576
hp_pool one 16M 1
hp_pool pair 8M 2
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

write=$(hp_probe hp-probe-write) || bail_out "cannot build hp-probe-write"
read=$(hp_probe hp-probe-read) || bail_out "cannot build hp-probe-read"
leak=$(hp_probe hp-probe-leak) || bail_out "cannot build hp-probe-leak"
zeros16="size=$((16 * MB)) nonzero=0 first=-1"
zeros8="size=$((8 * MB)) nonzero=0 first=-1"

# --- a holder that exits normally ---
out=$(hp_claim one "$write")
is "$out" "written=$((16 * MB))" "a holder writes the pattern over all 16M and exits"
ok "the slot is ready again" hp_until 5000 hp_field_is one ready 1
out=$(hp_claim one "$read")
is "$out" "$zeros16" "the next holder reads only zeros"

# --- a holder killed with SIGKILL while holding dirty memory ---
"$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" one "$write" 1000 < /dev/null > "$T/w.out" 2>&1 &
w=$!
hp_track $w
ok "a holder writes the pattern and keeps the lease" hp_until 5000 grep -qs written= "$T/w.out"
kill -KILL $w
ok "after its SIGKILL the slot is ready again" hp_until 5000 hp_field_is one ready 1
out=$(hp_claim one "$read")
is "$out" "$zeros16" "the next holder reads only zeros"

# --- both slots of a pool dirtied at once, then both read at once ---
for i in 1 2 ; do
  "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" pair "$write" 1000 < /dev/null > "$T/pw$i.out" 2>&1 &
  eval "pw$i=\$!"
  hp_track $!
done
ok "two holders dirty both slots of pool pair" hp_until 5000 eval 'grep -qs written= "$T/pw1.out" && grep -qs written= "$T/pw2.out"'
kill -TERM $pw1 $pw2
ok "both slots ready again" hp_until 5000 hp_field_is pair ready 2
for i in 1 2 ; do
  "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" pair sh -c '"$0" > "$1.tmp" && mv "$1.tmp" "$1" ; exec sleep 1000' "$read" "$T/pr$i.out" < /dev/null > /dev/null 2>&1 &
  eval "pr$i=\$!"
  hp_track $!
done
ok "two holders read both slots at once" hp_until 5000 eval 'test -s "$T/pr1.out" && test -s "$T/pr2.out"'
is "$(cat "$T/pr1.out" 2>/dev/null)" "$zeros8" "slot A: only zeros"
is "$(cat "$T/pr2.out" 2>/dev/null)" "$zeros8" "slot B: only zeros"
kill -TERM $pr1 $pr2
hp_until 5000 hp_field_is pair ready 2

# --- a holder that leaks its memfd to a child that outlives the lease ---
hp_until 5000 hp_field_is one ready 1
# wait for Shmem to settle: the previous scrubs are done once ready=1
shmem0=$(hp_shmem)
out=$(hp_claim one "$leak" "$T/report" 120)
is "$?" 0 "the leaking holder exits 0"
like "$out" "^written=$((16 * MB))\$" "it wrote the pattern over all 16M"
child=$(printf '%s\n' "$out" | sed -n 's/^child=//p')
hp_track $child
ok "its child, with a copy of the memfd and a mapping of it, is alive" hp_alive "$child"
ok "the lease ended anyway: the slot is ready again" hp_until 5000 hp_field_is one ready 1
ok "log: release for pool one" hp_log_kv_has event=release pool=one
# With the leaked pages still held, Shmem would stay up by the whole 16M.
# Shmem is the whole machine's and others may allocate meanwhile: sample it
# for up to 3 s, one reading below the bound is enough.
shmem_back() {
  shmem1=$(hp_shmem)
  test $((shmem1 - shmem0)) -lt $((8 * MB))
}
ok "Shmem came back (grew by less than half a slot, not by the 16M slot the child could hold)" hp_until 3000 shmem_back
note "Shmem before the leak $((shmem0 / 1024)) kB, after the lease ended $((shmem1 / 1024)) kB"

kill -USR1 "$child"
ok "the leaked copy reports" hp_until 5000 grep -qs '^n=1 ' "$T/report"
r=$(cat "$T/report" 2>/dev/null)
like "$r" ' resident=0 ' "no page of the leaked mapping is still in memory"
like "$r" ' nonzero=0 ' "the leaked fd reads only zeros: the pattern is gone"

"$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" one "$write" 1000 < /dev/null > "$T/n.out" 2>&1 &
n=$!
hp_track $n
ok "the next holder gets the slot and writes the pattern" hp_until 5000 grep -qs written= "$T/n.out"
kill -USR1 "$child"
ok "the leaked copy reports again" hp_until 5000 grep -qs '^n=2 ' "$T/report"
r=$(cat "$T/report" 2>/dev/null)
like "$r" ' resident=0 ' "the leaked mapping still has no page in memory"
like "$r" ' nonzero=0 ' "the leaked fd does not see the next holder's bytes"
kill -TERM $n "$child"
ok "slot ready after the next holder" hp_until 5000 hp_field_is one ready 1
out=$(hp_claim one "$read")
is "$out" "$zeros16" "and the holder after it reads only zeros"

ok "no slot was granted twice (log)" hp_log_no_double_grant

done_testing
