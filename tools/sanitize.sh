#!/bin/sh
# The whole test suite against an AddressSanitizer + UBSan build, made in a
# copy of this tree so that the normal build is left alone. Any sanitizer
# report, from any program the tests ran (the daemon, helpers, clients,
# probes), fails the run, even one in a process whose exit status no test
# looked at: reports go to files, counted at the end. The daemon is built
# with HP_TREE_CHECKS: its timer tree is checked whole after every change.
# Usage: tools/sanitize.sh [ prove options ]

PROG=sanitize.sh
cd "$(dirname "$0")/.." || exit 111
T=$(mktemp -d "${TMPDIR:-/tmp}/hp-sanitize.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir "$T/src" "$T/reports"
 # tests run some programs as nobody: they must be able to write their reports
chmod 755 "$T" && chmod 1777 "$T/reports"
sh tools/sanitize-build.sh "$T/src" || exit $?
cd "$T/src" || exit 111
 # leaks at exit are valgrind's job (tools/valgrind.sh): the daemon does not free what the kernel frees
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$T/reports/asan" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$T/reports/ubsan" \
HP_BUILD=$(pwd -P) HP_SANITIZED=1 prove "$@" tests/*.t
rc=$?
reports=$(ls "$T/reports" | wc -l)
echo "$PROG: sanitizer reports: $reports"
if test "$reports" -ne 0 ; then
  cat "$T/reports"/* | head -100
  exit 1
fi
exit $rc
