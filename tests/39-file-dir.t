#!/bin/sh
# A file pool's dir is walked from / by its helper at the moment it opens a
# file there, each component opened without following a link and checked
# as root trusts a directory. doc/pooldir.html allows dir below a root-owned
# sticky directory that anyone can write to; there another user can make
# the name first. A symlink that nobody plants at dir's place, pointing to
# a tmpfs, must not take the reservation there, neither for a pool the
# daemon started with nor for one a reload adds: the pool is short (reason
# unsafedir) and the tmpfs's free space does not move. A dir that does not
# exist yet starts its pool short (reason nodir), not failed for good, and
# its slot fills by itself once the dir is made.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-kinds.sh"
. "$HP_TESTDIR/lib-policy.sh"
hpp_open_tmp

MB=1048576
slack=$((256 * 1024))
shared=$T/shared
ram=$T/ram
hpk_tmpfs "$shared" 64m || skip_all "$HPK_WHY"
hpk_tmpfs "$ram" 64m || skip_all "$HPK_WHY"
chmod 1777 "$shared"
hpp_as "$HPP_NOBODY" test -w "$shared" || skip_all "nobody cannot write to $shared"

hpp_rule "$T/rules" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hp_pool mem 1M 1
hp_pool late 8M 1 kind=file "dir=$shared/late"
hp_pool trap 8M 1 kind=file "dir=$shared/trap"

# --- dir does not exist yet: short, not failed ---
hp_start_supervised -r 2000 -i "$T/rules" -p "$T/pools"
hp_wait_up 15000 || bail_out "the daemon did not become ready"
ok "pool late is short" hp_until 5000 hp_field_is late short 1
ok "log: helper-short pool=late reason=nodir" hp_log_kv_has event=helper-short pool=late reason=nodir
is "$(hp_log_kv_count event=helper-failed pool=late)" 0 "its helper did not fail for good"
is "$(hp_field late failed)" 0 "status: no failed slot"

# --- nobody plants a symlink at trap's place, to a tmpfs ---
ravail0=$(hpk_avail "$ram")
ok "nobody makes $shared/trap a symlink to the tmpfs" hpp_as "$HPP_NOBODY" ln -s "$ram" "$shared/trap"
savail0=$(hpk_avail "$shared")
mkdir "$shared/late"
ok "once late's dir is made, its slot fills by itself" hp_until 20000 hp_field_is late ready 1
ok "the free space of its filesystem dropped by 8M" hpk_near $((savail0 - $(hpk_avail "$shared"))) $((8 * MB)) $slack

# the helper of trap has looked again meanwhile (its retries are 1, 2, 4 s apart)
ok "trap's helper refused the link: helper-short reason=unsafedir" hp_until 20000 hp_log_kv_has event=helper-short pool=trap reason=unsafedir
like "$(grep "pool trap: short: unsafedir" "$T/log" | head -n 1)" "refusing to reserve through $shared/trap: a symbolic link" "its warning names the link"
is "$(hp_field trap ready)" 0 "pool trap has no ready slot"
ok "the link's target did not lose a byte" hpk_near "$(hpk_avail "$ram")" "$ravail0" $slack

# --- a reload adds a pool whose dir is the link ---
hp_pool trap2 8M 1 kind=file "dir=$shared/trap"
ok "a reload adding pool trap2 on the link is applied" hpp_hup
ok "it is not refused: another user's entry is not the admin's mistake" hp_log_kv_has event=reload
is "$(hp_log_count 'event=reload.*result=refused')" 0 "no reload refused"
ok "trap2 is short too, reason unsafedir" hp_until 10000 hp_log_kv_has event=helper-short pool=trap2 reason=unsafedir
is "$(hp_field trap2 ready)" 0 "pool trap2 has no ready slot"
ok "the link's target still did not lose a byte" hpk_near "$(hpk_avail "$ram")" "$ravail0" $slack
nok "a claim -n on trap finds no slot" hp_claim -n trap true 2> /dev/null

# --- root takes the name back: the pools fill, where they should ---
rm "$shared/trap"
mkdir "$shared/trap"
# trap2's helper, the younger, looks again soonest
ok "trap2 fills once the link is replaced by root's directory" hp_until 20000 hp_field_is trap2 ready 1
ok "the link's target still did not lose a byte" hpk_near "$(hpk_avail "$ram")" "$ravail0" $slack
ok "the reservation is on dir's filesystem" hp_until 5000 eval 'hpk_near $((savail0 - $(hpk_avail "$shared"))) $((16 * MB)) $slack || hpk_near $((savail0 - $(hpk_avail "$shared"))) $((24 * MB)) $slack' 

done_testing
