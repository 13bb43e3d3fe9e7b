#!/bin/sh
# Access rules from a cdb (-x) made by s6-accessrules-cdb-from-fs: the
# daemon keeps the cdb it loaded until SIGHUP (s6-svc -h), which loads the
# rebuilt one. Then the same daemon with no rules at all: root may do
# everything, nobody nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hpp_open_tmp
command -v s6-accessrules-cdb-from-fs > /dev/null 2>&1 || skip_all "s6-accessrules-cdb-from-fs is not installed"

R=$T/rules
CDB=$T/rules.cdb
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hpp_rule "$R" uid/65534 HOLDINGPEN_CLAIM_REGEX=open
s6-accessrules-cdb-from-fs "$CDB" "$R" || bail_out "s6-accessrules-cdb-from-fs failed"

hp_pool open 1M 1
hp_pool closed 1M 1
hp_start_supervised -x "$CDB" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

hpp_claim_as "$HPP_NOBODY" closed true 2> "$T/err"
is "$?" 1 "cdb: nobody, pool closed: exit 1"
like "$(cat "$T/err")" 'denied' "stderr says denied"
ok "log: event=deny pool=closed uid=65534 reason=rules" hp_log_kv_has event=deny pool=closed uid=65534 reason=rules
hpp_claim_as "$HPP_NOBODY" open true
is "$?" 0 "cdb: nobody, pool open: exit 0"
hpp_status_as "$HPP_NOBODY" > /dev/null 2>&1
is "$?" 1 "cdb: nobody, status: exit 1"
hp_claim closed true
is "$?" 0 "cdb: root, pool closed: exit 0"

# --- rebuilt cdb: nothing changes until SIGHUP ---
hpp_rule "$R" uid/65534 'HOLDINGPEN_CLAIM_REGEX=open|closed' HOLDINGPEN_STATUS=1
s6-accessrules-cdb-from-fs "$CDB" "$R" || bail_out "s6-accessrules-cdb-from-fs failed"
hpp_claim_as "$HPP_NOBODY" closed true 2> /dev/null
is "$?" 1 "cdb rebuilt, no SIGHUP yet: nobody, pool closed still denied"

ok "s6-svc -h: the daemon logs event=reload" hpp_hup
unlike "$(hp_log_kv event=reload)" 'refused' "the reload was applied"
hpp_claim_as "$HPP_NOBODY" closed true
is "$?" 0 "after SIGHUP: nobody, pool closed: exit 0"
hpp_status_as "$HPP_NOBODY" closed > "$T/out"
is "$?" 0 "after SIGHUP: nobody, status: exit 0"
like "$(cat "$T/out")" '^pool=closed ' "and it gets the records"

# --- the regex narrowed by a reload: the next claim goes by the new one ---
hpp_rule "$R" uid/65534 'HOLDINGPEN_CLAIM_REGEX=closed'
s6-accessrules-cdb-from-fs "$CDB" "$R" || bail_out "s6-accessrules-cdb-from-fs failed"
ok "s6-svc -h: regex 'closed'" hpp_hup
hpp_claim_as "$HPP_NOBODY" open true 2> /dev/null
is "$?" 1 "after SIGHUP: nobody, pool open, granted before, is denied"
hpp_claim_as "$HPP_NOBODY" closed true
is "$?" 0 "after SIGHUP: nobody, pool closed: exit 0"

# --- a rule taken away, SIGHUP again ---
rm -rf "$R/uid/65534"
s6-accessrules-cdb-from-fs "$CDB" "$R" || bail_out "s6-accessrules-cdb-from-fs failed"
ok "s6-svc -h again" hpp_hup
hpp_claim_as "$HPP_NOBODY" open true 2> /dev/null
is "$?" 1 "after SIGHUP: nobody has no rule, pool open denied"
hp_claim open true
is "$?" 0 "root still allowed"

# --- a rules file that cannot be read: the reload is refused, the rules stay ---
mv "$CDB" "$CDB.away"
ok "s6-svc -h with the cdb missing" hpp_hup
ok "log: event=reload result=refused" hp_log_kv_has event=reload result=refused
hp_claim open true
is "$?" 0 "root still allowed by the rules loaded before"
hpp_claim_as "$HPP_NOBODY" open true 2> /dev/null
is "$?" 1 "nobody still denied by them"
hpp_revoke -r 2> "$T/err"
is "$?" 6 "holdingpen-revoke -r with the cdb missing: exit 6"
like "$(cat "$T/err")" 'rules\.cdb' "it names the rules file"
mv "$CDB.away" "$CDB"
ok "the daemon is still the same process" test "$(hp_log_kv_count event=start)" -eq 1

# --- no rules at all: only root (the daemon's uid) ---
hp_stop
mv "$T/log" "$T/log.cdb"
rm -rf "$T/scan"
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon without rules did not become ready"

hpp_claim_as "$HPP_NOBODY" open touch "$T/pub/ran" 2> "$T/err"
is "$?" 1 "no rules: nobody, pool open: exit 1"
like "$(cat "$T/err")" 'denied' "stderr says denied"
ok "prog was not run" test ! -e "$T/pub/ran"
ok "log: event=deny pool=open uid=65534 reason=rules" hp_log_kv_has event=deny pool=open uid=65534 reason=rules
hpp_status_as "$HPP_NOBODY" > /dev/null 2>&1
is "$?" 1 "no rules: nobody, status: exit 1"
hpp_revoke_as "$HPP_NOBODY" -r 2> /dev/null
is "$?" 1 "no rules: nobody, reload: exit 1"
hp_claim open true
is "$?" 0 "no rules: root, pool open: exit 0"
hp_status > /dev/null
is "$?" 0 "no rules: root, status: exit 0"
hpp_revoke -r
is "$?" 0 "no rules: root, reload: exit 0"

done_testing
