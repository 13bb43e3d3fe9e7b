#!/bin/sh
# Builds a copy of this tree with AddressSanitizer and UBSan, in DIR (an
# empty directory), leaving the normal build alone: the programs, the
# examples and the benchmarks instrumented, the test probes plain; the
# daemon's timer tree checked whole after every change (HP_TREE_CHECKS). Used
# by tools/sanitize.sh and tools/soak.sh -a; HP_BUILD=DIR then runs tests
# against it.
# Usage: tools/sanitize-build.sh DIR

PROG=sanitize-build.sh
test $# -eq 1 && test -d "$1" || { echo "$PROG: usage: $PROG dir" 1>&2 ; exit 100 ; }
dir=$(cd "$1" && pwd -P) || exit 111
cd "$(dirname "$0")/.." || exit 111
git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$dir" || exit 111
cd "$dir" || exit 111
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
 # and the shims put into a program with LD_PRELOAD, plain too: they pass
 # what they do not fail to the sanitizers' allocator
for p in tests/probe/preload/*.c ; do
  test -f "$p" || continue
  ${CC:-cc} -std=c99 -O2 -fPIC -shared -o "${p%.c}.so" "$p" -ldl || exit 1
done
