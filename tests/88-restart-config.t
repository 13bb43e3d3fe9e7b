#!/bin/sh
# A restart with another configuration (holdingpend -f): what still
# matches is taken back; a lease of a pool removed meanwhile, or of a slot
# the pool no longer has, is held until it ends, as a reload would have
# it, and its pool or slot goes then.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-keep.sh"

hp_pool a 4M 2
hp_pool b 4M 1
hpf_fdholder
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER"
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up || bail_out "the daemon did not become ready"

hp_hold x a
hp_hold y a
hp_hold z b
ok "two holders on a, one on b" hp_until 5000 eval 'hp_holds x && hp_holds y && hp_holds z'
leases0=$(hpf_leases)

# the next broker has a with one slot, and no b
rm -rf "$T/pools/b"
echo 1 > "$T/pools/a/count"
pid=$(hp_daemon_pid)
kill -KILL "$pid"
hpf_wait_restart "$pid"
is "$?" 0 "a new holdingpend is up with the new configuration"
is "$(hpf_leases)" "$leases0" "the three leases are held, as before"
is "$(hp_field b removed)" 1 "pool b is listed as removed while its lease lives"
is "$(hp_field a held)" 2 "pool a: both its leases are held, one on a slot it no longer has"
hp_claim -n b true 2> /dev/null
is "$?" 2 "a claim on b is refused: no such pool"
kill "$HOLD_z"
ok "when b's holder goes, b goes" hp_until 5000 eval 'test -z "$(hp_status | grep "^pool=b ")"'
kill "$HOLD_x" "$HOLD_y"
ok "when a's holders go, a has its one slot, ready" hp_until 5000 eval 'hp_field_is a held 0 && hp_field_is a ready 1'
is "$(hp_field a count)" 1 "a: count=1"
done_testing
