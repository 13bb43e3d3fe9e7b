#!/bin/sh
# ifelapsed is checked again when a waiter is dispatched, not only when it
# queues: a uid that queued twice on a full pool gets the first slot, and
# its second claim is refused with 3 (too soon) instead of being granted
# after the first.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hpp_open_tmp

R=$T/rules
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hpp_rule "$R" uid/65534 HOLDINGPEN_CLAIM_REGEX=.*

hp_pool sp 1M 1 ifelapsed=5
hp_start_supervised -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

hp_hold -u "$HPP_NOBODY" h sp
ok "nobody holds the only slot of sp" hp_until 5000 hp_holds h
( hp_claim sp true 2> "$T/w1.err" ; echo $? > "$T/w1.rc" ) < /dev/null &
hp_track $!
ok "root queues a first claim" hp_until 5000 hp_field_is sp waiters 1
( hp_claim sp touch "$T/w2.ran" 2> "$T/w2.err" ; echo $? > "$T/w2.rc" ) < /dev/null &
hp_track $!
ok "and a second one behind it" hp_until 5000 hp_field_is sp waiters 2
kill -TERM "$HOLD_h"
ok "the first waiter is answered" hp_until 10000 test -s "$T/w1.rc"
is "$(cat "$T/w1.rc")" 0 "the first waiter is granted: exit 0"
ok "the second waiter is answered when the slot comes back" hp_until 10000 test -s "$T/w2.rc"
is "$(cat "$T/w2.rc")" 3 "the second waiter of the same uid is refused: exit 3 (too soon)"
like "$(cat "$T/w2.err")" 'too soon' "it says too soon"
ok "its prog was not run" test ! -e "$T/w2.ran"
ok "log: event=deny pool=sp uid=0 reason=toosoon" hp_log_kv_has event=deny pool=sp uid=0 reason=toosoon
is "$(hp_log_kv_count event=grant pool=sp uid=0)" 1 "log: root was granted sp once"

done_testing
