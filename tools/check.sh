#!/bin/sh
#
# tools/check.sh [ configure options ]
#
# What continuous integration runs: make sure the Debian packages are there,
# then ./configure, make, make check. Fails if any step fails, or if the
# tests left a process running. Set MAKE to use another make, PROVE_FLAGS
# to give prove options.

PROG=check.sh
cd "$(dirname "$0")/.." || exit 111
. tools/need-packages.sh
. tools/procs.sh

hp_need_packages "$PROG" test
MAKE=${MAKE:-make}
hp_tag_init

# A forgotten "make deps" after adding a source file links programs without it
if ./tools/gen-deps-mak.sh > package/deps.mak.tmp && ! cmp -s package/deps.mak.tmp package/deps.mak ; then
  echo "$PROG: warning: package/deps.mak is out of date: run make deps, and commit it" 1>&2
fi
rm -f package/deps.mak.tmp

./configure "$@" || { echo "$PROG: fatal: configure failed" 1>&2 ; exit 1 ; }
HP_PROC_TAG=$HP_PROC_TAG $MAKE || { echo "$PROG: fatal: make failed" 1>&2 ; exit 1 ; }
HP_PROC_TAG=$HP_PROC_TAG $MAKE check
rc=$?
# the same suite once more, on an AddressSanitizer + UBSan build
if test "$rc" -eq 0 && test -z "$HP_NO_SANITIZE" ; then
  HP_PROC_TAG=$HP_PROC_TAG sh tools/sanitize.sh
  rc=$?
  test "$rc" -eq 0 || echo "$PROG: fatal: the sanitizer run failed" 1>&2
fi
test "$rc" -eq 0 || echo "$PROG: fatal: make check failed" 1>&2
if ! hp_reap "$PROG" 5 ; then
  echo "$PROG: fatal: make check left processes behind (killed now)" 1>&2
  test "$rc" -ne 0 || rc=1
fi
test "$rc" -eq 0 || exit "$rc"
echo "$PROG: all checks passed"
