#!/bin/sh
# holdingpen-revoke on a live lease: the careful kill (CONT first, so that a
# stopped holder can act on INT; then INT; stop as soon as the holder is
# gone), the slot comes back, other leases are untouched. An unknown lease
# exits 2 (the known ones given with it are still revoked); a bad id, 100.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"

hp_pool rv 1M 3 killdelay=1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

# holder NAME: a holder of pool rv that writes the signals it gets to
# $T/NAME.sig and exits on INT; its lease id goes to $T/NAME.lease
holder() {
  rm -f "$T/$1.lease" "$T/$1.tmp"
  : > "$T/$1.sig"
  hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" rv env --default-signal=INT,TERM sh -c '
    trap "echo INT >> $0.sig ; exit 0" INT
    trap "echo TERM >> $0.sig" TERM
    echo "$HOLDINGPEN_LEASE" > "$0.tmp" && mv "$0.tmp" "$0.lease"
    while : ; do sleep 0.1 ; done' "$T/$1"
  eval "HOLD_$1=\$HP_BG_PID"
}

holder a
holder b
ok "two holders" hp_until 5000 eval 'hp_holds a && hp_holds b'
la=$(hp_lease a) ; lb=$(hp_lease b)
is "$(hp_field rv held)" 2 "status: held=2"

# --- revoke a live lease ---
hpp_revoke "$la" > "$T/out" 2> "$T/err"
is "$?" 0 "revoke $la: exit 0"
is "$(cat "$T/out" "$T/err")" "" "revoke: silent"
ok "the holder is signalled and exits" hp_until 5000 hp_dead "$HOLD_a"
is "$(cat "$T/a.sig")" INT "it got INT (and exited on it, before any TERM)"
ok "log: event=revoke pool=rv lease=$la with the holder's pid" hp_log_kv_has event=revoke pool=rv "lease=$la" "pid=$HOLD_a"
is "$(hp_log_kv event=kill "lease=$la" | sed 's/.* signal=\([A-Z]*\).*/\1/' | tr '\n' ' ')" "CONT INT " "log: CONT then INT, nothing after the holder is gone"
ok "log: the lease ends" hp_until 5000 eval 'test "$(hp_log_kv_count "lease=$la" event=release) $(hp_log_kv_count "lease=$la" event=end)" != "0 0"'
ok "the slot comes back: ready=2" hp_until 5000 hp_field_is rv ready 2
is "$(hp_field rv held)" 1 "status: held=1"
is "$(hp_status rv | grep -c "^lease=$la ")" 0 "the revoked lease is gone from the status"
ok "the other holder is untouched" hp_alive "$HOLD_b"
is "$(cat "$T/b.sig")" "" "and got no signal"
is "$(hp_status rv | grep -c "^lease=$lb ")" 1 "its lease is still listed"

# --- a stopped holder: CONT comes first, so it acts on INT ---
holder c
ok "a third holder" hp_until 5000 hp_holds c
lc=$(hp_lease c)
kill -STOP "$HOLD_c"
hpp_revoke "$lc"
is "$?" 0 "revoke $lc (holder stopped): exit 0"
ok "the stopped holder exits" hp_until 5000 hp_dead "$HOLD_c"
is "$(cat "$T/c.sig")" INT "it handled INT (it had been continued)"
ok "the slot comes back: ready=2" hp_until 5000 hp_field_is rv ready 2

# --- unknown leases ---
hpp_revoke 999999 > /dev/null 2> "$T/err"
is "$?" 2 "revoke of an unknown lease: exit 2"
is "$(hpp_lines "$T/err")" 1 "one line on stderr"
like "$(cat "$T/err")" '999999' "it names the lease"
hpp_revoke "$la" 2> /dev/null
is "$?" 2 "revoke of a lease already ended: exit 2"
hpp_revoke 999998 "$lb" 2> "$T/err"
is "$?" 2 "an unknown and a live lease together: exit 2"
ok "the live one is revoked all the same" hp_until 5000 hp_dead "$HOLD_b"
ok "its slot comes back: ready=3" hp_until 5000 hp_field_is rv ready 3
hpp_revoke 12abc 2> /dev/null
is "$?" 100 "a lease id that is not a number: exit 100"
hpp_revoke 2> /dev/null
is "$?" 100 "no lease and no -r: exit 100"
ok "no slot was granted twice (log)" hp_log_no_double_grant

done_testing
