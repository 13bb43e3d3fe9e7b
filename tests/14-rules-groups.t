#!/bin/sh
# Rules that see every group of the client: holdingpend reads the
# supplementary groups from the connection (SO_PEERGROUPS) and matches the
# rules on the uid, then the primary gid, then each supplementary gid in the
# order the kernel gives them (ascending); the first rule found decides.
# So a group that pam_group gives only to console logins says "the person
# at the console may claim". Real client processes with real supplementary
# groups (setpriv), numeric ids that no account uses; the same cases with a
# rules directory (-i) and with its cdb (-x).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hpp_open_tmp
command -v setpriv > /dev/null 2>&1 || skip_all "setpriv (util-linux) is not installed"
command -v s6-accessrules-cdb-from-fs > /dev/null 2>&1 || skip_all "s6-accessrules-cdb-from-fs is not installed"

# Ids that no account or group of this machine has: nothing but these rules
# can give them a right.
LAB=23457          # a lab user
USERS=23458        # the primary group every lab user has, console or remote
CONSOLE=34567      # the group pam_group gives to console logins only
OCTAVE=34566       # another group, below CONSOLE in number
OTHER=34568        # a group with no rule
BANNED=23999       # a lab user whose uid rule denies
CLOSED=45000       # a primary group whose rule denies
for id in $LAB $BANNED ; do
  getent passwd "$id" > /dev/null && skip_all "uid $id exists on this machine"
done
for id in $USERS $CONSOLE $OCTAVE $OTHER $CLOSED ; do
  getent group "$id" > /dev/null && skip_all "gid $id exists on this machine"
done

# 300 groups with no rule and no entry on this machine
MANY=$(seq 40000 40299 | tr '\n' , | sed 's/,$//')
for id in 40000 40150 40299 ; do
  getent group "$id" > /dev/null && skip_all "gid $id exists on this machine"
done

R=$T/rules
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hpp_rule "$R" "gid/$CONSOLE" HOLDINGPEN_CLAIM_REGEX=matlab-mem
hpp_rule "$R" "gid/$OCTAVE" HOLDINGPEN_CLAIM_REGEX=octave-mem
mkdir -p "$R/uid/$BANNED" && : > "$R/uid/$BANNED/deny"
mkdir -p "$R/gid/$CLOSED" && : > "$R/gid/$CLOSED/deny"

hp_pool matlab-mem 1M 1
hp_pool octave-mem 1M 1

# claim_with UID GID GROUPS POOL: holdingpen-claim -n POOL as that uid,
# primary gid and supplementary groups (a comma-separated list, or "none"),
# running a program that prints its ids. Exit code as holdingpen-claim's.
claim_with() {
  if test "$3" = none ; then _cw_g=--clear-groups ; else _cw_g="--groups=$3" ; fi
  timeout -s KILL 60 setpriv --reuid "$1" --regid "$2" "$_cw_g" -- \
    "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -n "$4" sh -c 'echo "$(id -u) $(id -G)"' > "$T/claim.out" 2> "$T/claim.err"
}

# cases WHAT: every case, against the running daemon.
cases() {
  claim_with $LAB $USERS $CONSOLE matlab-mem
  is "$?" 0 "$1: uid $LAB, primary $USERS, supplementary $CONSOLE (console): matlab-mem granted"
  is "$(cat "$T/claim.out")" "$LAB $USERS $CONSOLE" "$1: the program ran with those ids"

  claim_with $LAB $USERS $OTHER,$CONSOLE matlab-mem
  is "$?" 0 "$1: console among other supplementary groups: granted"

  claim_with $LAB $USERS none matlab-mem
  is "$?" 1 "$1: the same uid without the console group (remote login): denied"
  like "$(cat "$T/claim.err")" 'denied' "$1: it says denied"
  claim_with $LAB $USERS $OTHER matlab-mem
  is "$?" 1 "$1: the same uid with another group that has no rule: denied"
  ok "$1: log: event=deny reason=rules for uid $LAB" hp_log_kv_has event=deny pool=matlab-mem uid=$LAB reason=rules

  claim_with $BANNED $USERS $CONSOLE matlab-mem
  is "$?" 1 "$1: a uid/ deny beats the allowed console group"
  claim_with $LAB $CLOSED $CONSOLE matlab-mem
  is "$?" 1 "$1: a primary gid/ deny beats the allowed supplementary group"
  claim_with $LAB $CONSOLE none matlab-mem
  is "$?" 0 "$1: console as the primary group (no supplementary group): granted, as before"

  # both supplementary groups have a rule: the lower gid comes first in
  # the kernel's list, whatever order setpriv was given, and decides
  claim_with $LAB $USERS $CONSOLE,$OCTAVE octave-mem
  is "$?" 0 "$1: supplementary $OCTAVE and $CONSOLE: the rule of $OCTAVE decides, octave-mem granted"
  claim_with $LAB $USERS $CONSOLE,$OCTAVE matlab-mem
  is "$?" 1 "$1: and matlab-mem, which only $CONSOLE's rule allows, denied: the first rule found decides"

  # more supplementary groups than holdingpend reads at once (256): all are seen
  claim_with $LAB $USERS "$MANY,$CONSOLE" matlab-mem
  is "$?" 0 "$1: console among 301 supplementary groups: granted"
  claim_with $LAB $USERS "$MANY" matlab-mem
  is "$?" 1 "$1: the same 300 groups without console: denied"

  hpp_as "$LAB:$USERS" "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" > /dev/null 2>&1
  is "$?" 1 "$1: no rule gives the lab user the listing"
}

# --- a rules directory ---
hp_start_supervised -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
cases "-i rulesdir"

# --- the same rules as a cdb ---
hp_stop
mv "$T/log" "$T/log.dir"
rm -rf "$T/scan"
s6-accessrules-cdb-from-fs "$T/rules.cdb" "$R" || bail_out "s6-accessrules-cdb-from-fs failed"
hp_start_supervised -x "$T/rules.cdb" -p "$T/pools"
hp_wait_up || bail_out "the daemon with a cdb did not become ready"
cases "-x rulesfile"

done_testing
