#!/bin/sh
# uid/self and gid/self, as libs6 looks them up: a rule for "whoever
# holdingpend runs as", before uid/UID and gid/GID (doc/rules.html).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hpp_open_tmp

R=$T/rules
hpp_rule "$R" uid/self HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1
hp_pool p 1M 1
hp_start_supervised -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

hp_claim -n p true
is "$?" 0 "a client of the daemon's own uid, with only a uid/self rule: granted"
hp_status > /dev/null
is "$?" 0 "and it may list"
hpp_as "$HPP_NOBODY" "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -n p true 2> /dev/null
is "$?" 1 "another uid: denied"
done_testing
