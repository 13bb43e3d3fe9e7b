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
git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$T/src" || exit 111
cd "$T/src" || exit 111
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
./configure > /dev/null || exit 1
make -s CFLAGS="-O1 -g $san -DHP_TREE_CHECKS" LDFLAGS="$san" all examples bench > /dev/null || exit 1
 # the probes are instruments, not the product: instrumented, they would
 # count ASan's own shadow-memory faults as the product's; the few library
 # functions a probe calls are compiled in plain, with it
inc=$(sed -n 's/^CPPFLAGS_AUTO := //p' config.mak)
lib=$(sed -n 's/^LDFLAGS_AUTO := //p' config.mak)
for p in tests/probe/*.c ; do
  ${CC:-cc} -std=c99 -O2 $inc -o "${p%.c}" "$p" src/libhpwire/*.c src/libhppool/*.c $lib -lskarnet || exit 1
done
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
