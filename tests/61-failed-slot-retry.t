#!/bin/sh
# A slot that failed for good (a file pool whose dir is missing) counts as
# settled for readiness, and tries again at every reload, by s6-svc -h or by
# holdingpen-revoke -r: once the dir is there, the slot becomes ready and
# serves claims; without it, the next reservation fails for good again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"

R=$T/rules
hp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1

hp_pool fl 1M 1 kind=file "dir=$T/nodir"
hp_start_supervised -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready (a slot failed for good must count as settled)"

ok "fl: the helper fails for good (log event=helper-failed)" hp_log_kv_has event=helper-failed pool=fl
is "$(hp_field fl failed) $(hp_field fl ready)" "1 0" "status: fl failed=1 ready=0"
mkdir "$T/nodir"
ok "s6-svc -h after making the dir" hp_hup
ok "the slot becomes ready: status ready=1 failed=0" hp_until 10000 eval 'hp_field_is fl ready 1 && hp_field_is fl failed 0'
hp_claim -n fl true
is "$?" 0 "a claim on fl succeeds"
# the dir goes again: the next reservation, after that lease, fails for good
ok "fl is ready again after the lease" hp_until 10000 hp_field_is fl ready 1
rmdir "$T/nodir"
nfail=$(hp_log_kv_count event=helper-failed pool=fl)
hp_claim -n fl true
ok "without its dir, the re-reservation fails for good again" hp_until 10000 eval 'test "$(hp_log_kv_count event=helper-failed pool=fl)" -gt "$nfail" && hp_field_is fl failed 1'
mkdir "$T/nodir"
hp_revoke -r
is "$?" 0 "holdingpen-revoke -r after making the dir again: exit 0"
ok "the slot gets another chance: ready=1 failed=0" hp_until 10000 eval 'hp_field_is fl ready 1 && hp_field_is fl failed 0'
hp_claim -n fl true
is "$?" 0 "a claim on fl succeeds again"
ok "no slot was granted twice (log)" hp_log_no_double_grant

done_testing
