#!/bin/sh
# HOLDINGPEN_CLAIM_REGEX must match a pool's whole name. A rule whose
# alternation would escape a wrapping ^(...)$, like "matlab-1)|(x", does not
# let a client claim "matlab-1x"; neither does a prefix or an alternation;
# a plain rule still works. The daemon keeps a few compiled regexes by
# their text: more rules than it keeps, in turn, each still decides.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hp_setup
hpp_open_tmp

R="$T/rules"
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hp_pool matlab-1 1M 1
hp_pool matlab-1x 1M 1
hp_start_supervised -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

# claim_rc POOL: the exit code of a -n claim as nobody (the rules are read at connect time)
claim_rc() {
  hpp_claim_as "$HPP_NOBODY" -n "$1" true > /dev/null 2>&1
  echo $?
}

hpp_rule "$R" uid/65534 'HOLDINGPEN_CLAIM_REGEX=matlab-1)|(x'
is "$(claim_rc matlab-1x)" 1 "regex 'matlab-1)|(x': matlab-1x is denied"
ok "log: event=deny pool=matlab-1x uid=65534" hp_log_kv_has event=deny pool=matlab-1x uid=65534

hpp_rule "$R" uid/65534 'HOLDINGPEN_CLAIM_REGEX=x)|(matlab-1'
is "$(claim_rc matlab-1x)" 1 "regex 'x)|(matlab-1': matlab-1x is denied"

hpp_rule "$R" uid/65534 'HOLDINGPEN_CLAIM_REGEX=matlab-1)|(matlab-1x'
is "$(claim_rc matlab-1)" 1 "regex 'matlab-1)|(matlab-1x': matlab-1 is denied"

hpp_rule "$R" uid/65534 'HOLDINGPEN_CLAIM_REGEX=matlab-1|x'
is "$(claim_rc matlab-1x)" 1 "regex 'matlab-1|x': matlab-1x is denied"
is "$(claim_rc matlab-1)" 0 "regex 'matlab-1|x': matlab-1 is granted"

hpp_rule "$R" uid/65534 'HOLDINGPEN_CLAIM_REGEX=matlab-1'
is "$(claim_rc matlab-1x)" 1 "regex 'matlab-1': a prefix of matlab-1x does not let it be claimed"
is "$(claim_rc matlab-1)" 0 "regex 'matlab-1': matlab-1 is granted"

hpp_rule "$R" uid/65534 'HOLDINGPEN_CLAIM_REGEX=matlab-.*'
is "$(claim_rc matlab-1x)" 0 "regex 'matlab-.*': matlab-1x is granted"
is "$(claim_rc matlab-1)" 0 "regex 'matlab-.*': matlab-1 is granted"

is "$(hp_log_kv_count event=grant pool=matlab-1x)" 1 "log: matlab-1x was granted once only, to the plain rule"

# ten rules in turn, more than the daemon keeps compiled, each letting one
# pool be claimed and not the other: a denial says which rule was used
for i in 0 1 2 3 4 5 6 7 8 9 ; do
  if test $((i % 2)) -eq 0 ; then allowed=matlab-1 denied=matlab-1x ; else allowed=matlab-1x denied=matlab-1 ; fi
  hpp_rule "$R" uid/65534 "HOLDINGPEN_CLAIM_REGEX=$allowed|y$i"
  is "$(claim_rc $denied)" 1 "regex '$allowed|y$i': $denied is denied"
done
hpp_rule "$R" uid/65534 'HOLDINGPEN_CLAIM_REGEX=matlab-1|y0'
is "$(claim_rc matlab-1x)" 1 "regex 'matlab-1|y0' again, compiled anew: matlab-1x is denied"
is "$(claim_rc matlab-1)" 0 "and matlab-1 is granted"
done_testing
