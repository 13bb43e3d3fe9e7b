#!/bin/sh
# The shared library: a copy of the sources configured with
# --enable-shared --disable-static, installed under DESTDIR; the C example
# compiles with nothing but pkg-config's --cflags and --libs (the public
# interface is skalibs types and macros, so skalibs must be in Libs), runs
# on libholdingpen.so from that tree, and claims from a broker.
. "$(dirname "$0")/lib.sh"
hp_setup
command -v pkg-config > /dev/null 2>&1 || skip_all "pkg-config is not installed"
command -v git > /dev/null 2>&1 && test -d "$HP_TESTDIR/../.git" || skip_all "needs the git checkout to copy the sources"

top=$(cd "$HP_TESTDIR/.." && pwd)
mkdir -p "$T/src"
(cd "$top" && git ls-files -co --exclude-standard | tar -cf - -T -) | tar -xf - -C "$T/src"
(cd "$T/src" && ./configure --enable-shared --disable-static && make -s && make -s install DESTDIR="$T/root") > "$T/build.log" 2>&1
is "$?" 0 "configure --enable-shared --disable-static, make, make install"
so=$(find "$T/root" -name 'libholdingpen.so.*.*.*' | head -n 1)
ok "libholdingpen.so is installed" test -n "$so"
is "$(find "$T/root" -name 'libholdingpen.a' | wc -l | tr -d ' ')" 0 "and no archive"
pc=$(find "$T/root" -name holdingpen.pc | head -n 1)
libs=$(PKG_CONFIG_LIBDIR=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$T/root" pkg-config --libs holdingpen)
cflags=$(PKG_CONFIG_LIBDIR=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$T/root" pkg-config --cflags holdingpen)
like "$libs" '-lskarnet' "pkg-config --libs names skalibs, which the interface is made of"
${CC:-cc} $cflags -o "$T/claim-and-map" "$top/examples/c/claim-and-map.c" $libs > "$T/cc.log" 2>&1
is "$?" 0 "the example links with pkg-config's flags alone"
[ -s "$T/cc.log" ] && diag "$(cat "$T/cc.log")"
libdir=$(dirname "$so")
like "$(LD_LIBRARY_PATH=$libdir ldd "$T/claim-and-map")" "libholdingpen\\.so\\.[0-9.]* => $libdir/" "it runs on the installed libholdingpen.so"

hp_pool one 8M 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
out=$(LD_LIBRARY_PATH=$libdir timeout -s KILL 30 "$T/claim-and-map" -s "$HP_SOCKET" one 2>&1)
is "$?" 0 "the example claims through the shared library"
like "$out" 'claimed lease=[0-9]+ kind=memfd size=8388608 zeroed=yes written=yes' "and gets a zeroed, writable 8M memfd"
done_testing
