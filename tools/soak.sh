#!/bin/sh
# The soak of tests/89-soak.t, as long as asked: the kept configuration
# (holdingpend -f, s6-fdholderd, a real s6-svscan) under the fault mix,
# its invariants as TAP lines and a summary line of figures at the end.
# The same seed gives the same fault schedule and the same holders.
#   -a   against a copy of this tree built with AddressSanitizer and UBSan
#        (tools/sanitize-build.sh); any sanitizer report fails the run
# Without -a, the programs are taken from HP_BUILD if it is set (the top
# of a build tree, sanitized or not), else from this tree, built.
# HP_SOAK_MAXSECS bounds the run (default: a tenth of a second per cycle,
# and a minute); HP_KEEP=1 keeps its directory.
# Usage: tools/soak.sh [ -a ] [ cycles [ seed ] ]

PROG=soak.sh
usage() { echo "$PROG: usage: $PROG [ -a ] [ cycles [ seed ] ]" 1>&2 ; exit 100 ; }
san=
while getopts a opt ; do
  case $opt in
    a) san=1 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
test $# -le 2 || usage
cycles=${1:-10000}
seed=${2:-$(date +%s)}
case $cycles$seed in
  ''|*[!0-9]*) usage ;;
esac
cd "$(dirname "$0")/.." || exit 111
top=$(pwd -P)
if test -n "$san" ; then
  T=$(mktemp -d "${TMPDIR:-/tmp}/hp-soak.XXXXXX") || exit 111
  trap 'rm -rf "$T"' EXIT
  mkdir "$T/src" "$T/reports"
  chmod 755 "$T" && chmod 1777 "$T/reports"
  echo "$PROG: building a sanitized copy" 1>&2
  sh tools/sanitize-build.sh "$T/src" || exit $?
  HP_BUILD=$T/src
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$T/reports/asan"
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$T/reports/ubsan"
  HP_SANITIZED=1
  export ASAN_OPTIONS UBSAN_OPTIONS HP_SANITIZED
elif test -z "$HP_BUILD" ; then
  test -x "$top/holdingpend" || { echo "$PROG: fatal: build the tree first (./configure && make), or give HP_BUILD" 1>&2 ; exit 100 ; }
  HP_BUILD=$top
fi
export HP_BUILD
HP_SOAK_CYCLES=$cycles HP_SOAK_SEED=$seed sh "$top/tests/89-soak.t"
rc=$?
if test -n "$san" ; then
  reports=$(ls "$T/reports" | wc -l)
  echo "$PROG: sanitizer reports: $reports"
  if test "$reports" -ne 0 ; then
    cat "$T/reports"/* | head -100
    exit 1
  fi
fi
exit $rc
