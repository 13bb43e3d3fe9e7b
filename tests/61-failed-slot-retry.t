#!/bin/sh
# A slot that failed for good (a file pool whose dir is on a read-only
# filesystem: a read-only tmpfs mounted over it) counts as settled for
# readiness, and tries again at every reload, by s6-svc -h or by
# holdingpen-revoke -r: once dir is writable, the slot becomes ready and
# serves claims; read-only again, the next reservation fails for good again.
# (A dir that does not exist is not a failure for good: the pool is short
# and its helper tries again by itself, see 39-file-dir.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"

R=$T/rules
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1

D=$T/dir
mkdir "$D"
# ro_on, ro_off: a read-only tmpfs over dir, and away again
ro_on() { mount -t tmpfs -o ro,size=1m,mode=0755 tmpfs "$D" ; }
ro_off() { umount "$D" ; }
ro_on || skip_all "cannot mount a read-only tmpfs"
hp_at_exit "while mountpoint -q $(hp__quote "$D") ; do umount -l $(hp__quote "$D") || break ; done"

hp_pool fl 1M 1 kind=file "dir=$D"
hp_start_supervised -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready (a slot failed for good must count as settled)"

ok "fl: the helper fails for good (log event=helper-failed)" hp_log_kv_has event=helper-failed pool=fl
is "$(hp_field fl failed) $(hp_field fl ready)" "1 0" "status: fl failed=1 ready=0"
ro_off
ok "s6-svc -h once dir is writable" hpp_hup
ok "the slot becomes ready: status ready=1 failed=0" hp_until 10000 eval 'hp_field_is fl ready 1 && hp_field_is fl failed 0'
hp_claim -n fl true
is "$?" 0 "a claim on fl succeeds"
# read-only again: the next reservation, after that lease, fails for good
ok "fl is ready again after the lease" hp_until 10000 hp_field_is fl ready 1
ok "dir is read-only again" ro_on
nfail=$(hp_log_kv_count event=helper-failed pool=fl)
hp_claim -n fl true
ok "on a read-only dir, the re-reservation fails for good again" hp_until 10000 eval 'test "$(hp_log_kv_count event=helper-failed pool=fl)" -gt "$nfail" && hp_field_is fl failed 1'
ro_off
hpp_revoke -r
is "$?" 0 "holdingpen-revoke -r once dir is writable again: exit 0"
ok "the slot gets another chance: ready=1 failed=0" hp_until 10000 eval 'hp_field_is fl ready 1 && hp_field_is fl failed 0'
hp_claim -n fl true
is "$?" 0 "a claim on fl succeeds again"
ok "no slot was granted twice (log)" hp_log_no_double_grant

done_testing
