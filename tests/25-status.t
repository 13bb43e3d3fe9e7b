#!/bin/sh
# holdingpen-status, both forms, read back by the test: the pool records
# (size, count, ready, held, waiters and the policy settings), the lease
# records (pool, uid, gid, pid of the holder) and the waiter records; the
# table carries the same values under its column titles; naming pools
# restricts the output, an unknown one exits 2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hpp_open_tmp

R=$T/rules
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hpp_rule "$R" uid/65534 HOLDINGPEN_CLAIM_REGEX=.*

hp_pool alpha 1M 3 expire=60 maxperuid=2 ifelapsed=5
hp_pool beta 2M 1
hp_start_supervised -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

# kv RECORDS-FILE FIRSTWORD KEY: KEY's value in the record whose first word is FIRSTWORD
kv() {
  awk -v f="$2" -v k="$3" '$1 == f { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2) ; exit } }' "$1"
}

# cell TABLE-FILE FIRSTTITLE ROWKEY TITLE: in the table whose header starts
# with FIRSTTITLE, the cell under TITLE in the row whose first cell is ROWKEY
cell() {
  awk -v f="$2" -v r="$3" -v t="$4" '
    $1 == f { inside = 1 ; col = 0 ; for (i = 1; i <= NF; i++) if ($i == t) col = i ; next }
    NF == 0 { inside = 0 ; next }
    inside && $1 == r && col { print $col ; exit }' "$1"
}

hp_hold h1 alpha
hp_hold -u "$HPP_NOBODY" h2 alpha
ok "two holders on alpha, one root, one nobody" hp_until 5000 eval 'hp_holds h1 && hp_holds h2'
hp_hold hb beta
ok "a holder on beta" hp_until 5000 hp_holds hb
hp_hold wb -t 30000 beta
ok "a waiter on beta" hp_until 5000 hp_field_is beta waiters 1
l1=$(hp_lease h1) ; l2=$(hp_lease h2) ; lb=$(hp_lease hb)

# --- -k ---
hp_status > "$T/k"
is "$?" 0 "holdingpen-status -k: exit 0"
is "$(grep -c '^pool=' "$T/k")" 2 "-k: two pool records"
is "$(kv "$T/k" pool=alpha kind)" memfd "alpha: kind=memfd"
is "$(kv "$T/k" pool=alpha size)" 1048576 "alpha: size=1048576"
is "$(kv "$T/k" pool=alpha count)" 3 "alpha: count=3"
is "$(kv "$T/k" pool=alpha ready)" 1 "alpha: ready=1"
is "$(kv "$T/k" pool=alpha held)" 2 "alpha: held=2"
is "$(kv "$T/k" pool=alpha waiters)" 0 "alpha: waiters=0"
is "$(kv "$T/k" pool=alpha expire)" 60 "alpha: expire=60"
is "$(kv "$T/k" pool=alpha maxperuid)" 2 "alpha: maxperuid=2"
is "$(kv "$T/k" pool=beta size)" 2097152 "beta: size=2097152"
is "$(kv "$T/k" pool=beta count)" 1 "beta: count=1"
is "$(kv "$T/k" pool=beta ready)" 0 "beta: ready=0"
is "$(kv "$T/k" pool=beta held)" 1 "beta: held=1"
is "$(kv "$T/k" pool=beta waiters)" 1 "beta: waiters=1"
is "$(kv "$T/k" pool=alpha ifelapsed)" 5 "alpha: ifelapsed=5"
is "$(kv "$T/k" pool=beta expire)" 0 "beta: expire=0"

is "$(grep -c '^lease=' "$T/k")" 3 "-k: three lease records"
is "$(kv "$T/k" "lease=$l1" pool)" alpha "lease $l1: pool=alpha"
is "$(kv "$T/k" "lease=$l1" uid)" 0 "lease $l1: uid=0"
is "$(kv "$T/k" "lease=$l1" pid)" "$HOLD_h1" "lease $l1: pid of its holder"
e1=$(kv "$T/k" "lease=$l1" expires) ; a1=$(kv "$T/k" "lease=$l1" age)
cmp_ok "$((e1 + a1))" -ge 59 "lease $l1: age + expires = 60 (age=$a1 expires=$e1)"
cmp_ok "$((e1 + a1))" -le 60 "lease $l1: age + expires = 60, not more"
is "$(kv "$T/k" "lease=$l2" uid)" 65534 "lease $l2: uid=65534"
is "$(kv "$T/k" "lease=$l2" gid)" 65534 "lease $l2: gid=65534"
is "$(kv "$T/k" "lease=$l2" pid)" "$HOLD_h2" "lease $l2: pid of its holder"
isnt "$(kv "$T/k" "lease=$l1" slot)" "$(kv "$T/k" "lease=$l2" slot)" "the two alpha leases are on different slots"
is "$(kv "$T/k" "lease=$lb" pool)" beta "lease $lb: pool=beta"
is "$(kv "$T/k" "lease=$lb" expires)" never "lease $lb: expires=never"
is "$(grep -c '^waiter=' "$T/k")" 1 "-k: one waiter record"
wrec=$(grep '^waiter=' "$T/k" | awk '{ print $1 }')
is "$(kv "$T/k" "$wrec" pool)" beta "waiter: pool=beta"
is "$(kv "$T/k" "$wrec" pid)" "$HOLD_wb" "waiter: its pid"
wd=$(kv "$T/k" "$wrec" deadline) ; ww=$(kv "$T/k" "$wrec" waited)
cmp_ok "$((wd + ww))" -ge 29 "waiter: waited + deadline = 30 (waited=$ww deadline=$wd)"
cmp_ok "$((wd + ww))" -le 30 "waiter: waited + deadline = 30, not more"

# --- naming pools ---
hp_status beta > "$T/kb"
is "$?" 0 "status beta: exit 0"
is "$(grep -c '^pool=' "$T/kb")" 1 "status beta: one pool record"
is "$(grep '^pool=' "$T/kb" | awk '{ print $1 }')" pool=beta "and it is beta's"
is "$(grep -c "^lease=.* pool=alpha" "$T/kb")" 0 "no alpha lease in it"
is "$(grep -c '^lease=' "$T/kb")" 1 "beta's lease is in it"
hp_status nosuchpool > /dev/null 2> "$T/err"
is "$?" 2 "status of an unknown pool: exit 2"
is "$(hpp_lines "$T/err")" 1 "one line on stderr"

# --- the table ---
timeout -s KILL 20 "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" > "$T/table"
is "$?" 0 "holdingpen-status (table): exit 0"
is "$(cell "$T/table" POOL alpha SIZE)" 1048576 "table: alpha SIZE"
is "$(cell "$T/table" POOL alpha SLOTS)" 3 "table: alpha SLOTS"
is "$(cell "$T/table" POOL alpha READY)" 1 "table: alpha READY"
is "$(cell "$T/table" POOL alpha HELD)" 2 "table: alpha HELD"
is "$(cell "$T/table" POOL beta SIZE)" 2097152 "table: beta SIZE"
is "$(cell "$T/table" POOL beta WAITERS)" 1 "table: beta WAITERS"
is "$(cell "$T/table" LEASE "$l1" POOL)" alpha "table: lease $l1 POOL"
is "$(cell "$T/table" LEASE "$l1" UID)" 0 "table: lease $l1 UID"
is "$(cell "$T/table" LEASE "$l1" PID)" "$HOLD_h1" "table: lease $l1 PID"
is "$(cell "$T/table" LEASE "$l2" UID)" 65534 "table: lease $l2 UID"
is "$(cell "$T/table" LEASE "$l2" PID)" "$HOLD_h2" "table: lease $l2 PID"
is "$(cell "$T/table" WAITER "${wrec#waiter=}" PID)" "$HOLD_wb" "table: waiter PID"
unlike "$(cat "$T/table")" '=' "the table has no key=value words"

# --- the records follow the changes ---
kill -TERM "$HOLD_h2"
ok "after nobody's holder exits: alpha held=1" hp_until 5000 hp_field_is alpha held 1
ok "alpha ready=2" hp_until 5000 hp_field_is alpha ready 2
hp_status alpha > "$T/k"
is "$(grep -c "^lease=$l2 " "$T/k")" 0 "lease $l2 is gone from the status"
kill -TERM "$HOLD_hb"
ok "beta's waiter gets the slot" hp_until 5000 hp_holds wb
is "$(hp_field beta waiters)" 0 "beta: waiters=0"
hp_status beta > "$T/k"
is "$(kv "$T/k" "lease=$(hp_lease wb)" pid)" "$HOLD_wb" "the waiter's pid is now a lease's"

done_testing
