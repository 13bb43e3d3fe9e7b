#!/bin/sh
# holdingpend under valgrind memcheck through every path a client reaches
# (tools/valgrind.sh): no invalid access, no uninitialised use, no leak.
. "$(dirname "$0")/lib.sh"
hp_setup
test -z "$HP_SANITIZED" || skip_all "an AddressSanitizer build cannot run under valgrind"
command -v valgrind >/dev/null 2>&1 || skip_all "valgrind is not installed (apt-get install valgrind)"
out=$(TMPDIR=$T "$HP_BUILD/tools/valgrind.sh" "${HP_VALGRIND_CYCLES:-100}" 2>&1)
rc=$?
is "$rc" 0 "tools/valgrind.sh passed"
like "$out" "valgrind: error reports: 0" "valgrind reported no error and no leak"
like "$out" "busy: 5" "-n on a full pool refused with 5 under valgrind"
like "$out" "timeout: 99" "a deadline passed with 99 under valgrind"
like "$out" "nopool: 2" "an unknown pool refused with 2 under valgrind"
[ "$rc" = 0 ] || diag "$out"
done_testing
