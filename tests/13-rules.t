#!/bin/sh
# Access rules from a rules directory (-i), as s6-fdholderd reads them: a
# claim needs HOLDINGPEN_CLAIM_REGEX matching the whole pool name, status
# needs HOLDINGPEN_STATUS, revoke and reload need HOLDINGPEN_ADMIN; uid rules
# win over gid rules; a uid with no rule may do nothing. The directory is
# read at each connection, so a change needs no reload.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hpp_open_tmp

R=$T/rules
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hpp_rule "$R" uid/65534 HOLDINGPEN_CLAIM_REGEX=open
hpp_rule "$R" gid/12345 HOLDINGPEN_CLAIM_REGEX=team HOLDINGPEN_STATUS=1
TEAM=23456:12345
STRANGER=45678:45678

hp_pool open 1M 2
hp_pool opened 1M 1
hp_pool closed 1M 1
hp_pool team 1M 1
hp_start_supervised -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

# --- nobody: denied a pool it has no rule for ---
hpp_claim_as "$HPP_NOBODY" closed touch "$T/pub/ran" > "$T/out" 2> "$T/err"
is "$?" 1 "nobody, pool closed (no rule): exit 1"
is "$(hpp_lines "$T/err")" 1 "one line on stderr"
like "$(cat "$T/err")" '^holdingpen-claim: .*closed.*denied' "it names the pool and says denied"
ok "prog was not run" test ! -e "$T/pub/ran"
ok "log: event=deny with the pool, nobody's uid and reason=rules" \
  hp_log_kv_has event=deny pool=closed uid=65534 gid=65534 reason=rules
hpp_claim_as "$HPP_NOBODY" opened true 2> "$T/err"
is "$?" 1 "nobody, pool opened: exit 1 (the regex open must match the whole name)"

# --- nobody: allowed the pool its regex names ---
hpp_claim_as "$HPP_NOBODY" open sh -c 'echo "$HOLDINGPEN_POOL $HOLDINGPEN_SIZE" ; id -u' > "$T/out" 2> "$T/err"
is "$?" 0 "nobody, pool open (HOLDINGPEN_CLAIM_REGEX=open): exit 0"
is "$(head -n 1 "$T/out")" "open 1048576" "the program ran with the lease of pool open"
is "$(sed -n 2p "$T/out")" 65534 "as nobody"
ok "log: event=grant pool=open uid=65534" hp_log_kv_has event=grant pool=open uid=65534

# --- status and revoke refused without HOLDINGPEN_STATUS / HOLDINGPEN_ADMIN ---
hpp_status_as "$HPP_NOBODY" > "$T/out" 2> "$T/err"
is "$?" 1 "nobody, status (no HOLDINGPEN_STATUS): exit 1"
like "$(cat "$T/err")" 'denied' "status: stderr says denied"
is "$(wc -c < "$T/out" | tr -d ' ')" 0 "status: nothing on stdout"
ok "log: event=deny uid=65534 reason=status" hp_log_kv_has event=deny uid=65534 reason=status

hp_hold h1 open
ok "root holds a slot of open" hp_until 5000 hp_holds h1
lease=$(hp_lease h1)
hpp_revoke_as "$HPP_NOBODY" "$lease" 2> "$T/err"
is "$?" 1 "nobody, revoke (no HOLDINGPEN_ADMIN): exit 1"
like "$(cat "$T/err")" 'denied' "revoke: stderr says denied"
ok "log: event=deny uid=65534 reason=admin" hp_log_kv_has event=deny uid=65534 reason=admin
hpp_revoke_as "$HPP_NOBODY" -r 2> "$T/err"
is "$?" 1 "nobody, revoke -r (reload, no HOLDINGPEN_ADMIN): exit 1"
ok "the lease is untouched" hp_stays 300 hp_alive "$HOLD_h1"
is "$(hp_log_kv_count event=revoke)" 0 "log: no event=revoke"
is "$(hp_log_kv_count event=reload)" 0 "log: no event=reload"

# --- a gid rule: applies to a uid without its own rule ---
hpp_claim_as "$TEAM" team true
is "$?" 0 "uid 23456 gid 12345, pool team (gid rule): exit 0"
hpp_claim_as "$TEAM" open true 2> /dev/null
is "$?" 1 "uid 23456 gid 12345, pool open: exit 1"
hpp_status_as "$TEAM" team > "$T/out"
is "$?" 0 "uid 23456 gid 12345, status (HOLDINGPEN_STATUS in the gid rule): exit 0"
like "$(cat "$T/out")" '^pool=team ' "and it gets the records"
hpp_revoke_as "$TEAM" "$lease" 2> /dev/null
is "$?" 1 "uid 23456 gid 12345, revoke (no HOLDINGPEN_ADMIN): exit 1"
ok "the lease is still untouched" hp_alive "$HOLD_h1"

# a uid rule wins over the gid rule
hpp_claim_as 65534:12345 team true 2> /dev/null
is "$?" 1 "uid 65534 gid 12345: nobody's uid rule wins, team denied"
hpp_claim_as 65534:12345 open true
is "$?" 0 "uid 65534 gid 12345: open allowed by the uid rule"

# --- no rule at all for this uid: nothing is allowed ---
hpp_claim_as "$STRANGER" open true 2> /dev/null
is "$?" 1 "a uid with no rule: claim exit 1"
ok "log: event=deny uid=45678 reason=rules" hp_log_kv_has event=deny pool=open uid=45678 reason=rules
hpp_status_as "$STRANGER" > /dev/null 2>&1
is "$?" 1 "a uid with no rule: status exit 1"

# --- root, with its rule, may do everything ---
hp_claim closed true
is "$?" 0 "root, pool closed: exit 0"
hp_status > /dev/null
is "$?" 0 "root: status exit 0"
hpp_revoke "$lease"
is "$?" 0 "root: revoke exit 0"
ok "the revoked holder is gone" hp_until 10000 hp_dead "$HOLD_h1"

# --- the rules directory is read at each connection ---
hpp_rule "$R" uid/65534 'HOLDINGPEN_CLAIM_REGEX=open|closed' HOLDINGPEN_STATUS=1
hpp_claim_as "$HPP_NOBODY" closed true
is "$?" 0 "after the rule changed: nobody, pool closed: exit 0"
hpp_status_as "$HPP_NOBODY" closed > /dev/null
is "$?" 0 "after the rule changed: nobody, status: exit 0"
rm -rf "$R/uid/65534"
hpp_claim_as "$HPP_NOBODY" open true 2> /dev/null
is "$?" 1 "after the rule was removed: nobody, pool open: exit 1"
is "$(hp_log_kv_count event=reload)" 0 "no reload was needed"

done_testing
