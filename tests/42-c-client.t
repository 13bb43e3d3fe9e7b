#!/bin/sh
# make install into a staging directory installs the programs, the helper,
# the public header, the client library and holdingpen.pc; the C example
# examples/c/claim-and-map.c compiles against that installed tree through
# pkg-config (not against the source tree), and claims, maps, checks and
# writes a slot of a supervised broker.
. "$(dirname "$0")/lib.sh"

command -v pkg-config > /dev/null 2>&1 || skip_all "pkg-config is not installed"
command -v make > /dev/null 2>&1 || skip_all "make is not installed"
test -f "$HP_BUILD/config.mak" || skip_all "the build tree is not configured"
EXSRC="$HP_TESTDIR/../examples/c/claim-and-map.c"
test -f "$EXSRC" || skip_all "no examples/c/claim-and-map.c next to the tests"

# The directories configure chose, from the build tree's config.mak.
confvar() {
  sed -n "s/^$1 := //p" "$HP_BUILD/config.mak"
}
bindir=$(confvar bindir)
libexecdir=$(confvar libexecdir)
libdir=$(confvar libdir)
includedir=$(confvar includedir)
dynlibdir=$(confvar dynlibdir)
version=$(confvar version)
do_static=$(confvar DO_STATIC)
do_shared=$(confvar DO_SHARED)
R="$T/root"
# A shared libholdingpen (--enable-shared) is found at run time in the
# staging directory.
LD_LIBRARY_PATH="$R$dynlibdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH

# -o .build-flags: install what is built, as it was built. The flags stamp
# is remade at every make run and compared with the flags of this one; a
# tree built with other flags (tools/sanitize.sh builds with CFLAGS=...)
# would otherwise be rebuilt here, with plain flags, under the other tests.
make -C "$HP_BUILD" -o .build-flags install DESTDIR="$R" > "$T/install.log" 2>&1
rc=$?
is "$rc" 0 "make install DESTDIR=... exits 0"
test "$rc" -eq 0 || diag "$(tail -n 20 "$T/install.log")"

for p in holdingpen-daemon holdingpend holdingpen-claim holdingpen-status holdingpen-revoke ; do
  ok "installed: $bindir/$p, executable" test -f "$R$bindir/$p" -a -x "$R$bindir/$p"
done
ok "installed: $libexecdir/holdingpen-helper, executable" test -f "$R$libexecdir/holdingpen-helper" -a -x "$R$libexecdir/holdingpen-helper"
ok "not installed: the helper in $bindir" test ! -e "$R$bindir/holdingpen-helper"
ok "installed: $includedir/holdingpen/holdingpen.h" test -f "$R$includedir/holdingpen/holdingpen.h"
ok "installed: $includedir/holdingpen/config.h (holdingpen.h includes it)" test -f "$R$includedir/holdingpen/config.h"
if test -n "$do_static" ; then
  ok "installed: $libdir/libholdingpen.a" test -f "$R$libdir/libholdingpen.a"
else
  ok "not installed: libholdingpen.a (--disable-static)" test ! -e "$R$libdir/libholdingpen.a"
fi
if test -n "$do_shared" ; then
  ok "installed: $dynlibdir/libholdingpen.so (--enable-shared)" test -e "$R$dynlibdir/libholdingpen.so"
else
  ok "not installed: libholdingpen.so (no --enable-shared)" test -z "$(find "$R" -name 'libholdingpen.so*')"
fi
ok "not installed: the internal libhppool.a, libhpwire.a and their headers" test -z "$(find "$R" -name 'libhppool*' -o -name 'libhpwire*' -o -name 'hppool.h' -o -name 'hpwire.h')"
"$R$bindir/holdingpen-claim" > /dev/null 2>&1
is "$?" 100 "the installed holdingpen-claim runs (usage: 100)"

pc=$(find "$R" -name holdingpen.pc)
is "$(printf '%s\n' "$pc" | grep -c .)" 1 "exactly one holdingpen.pc under the staging directory"
pcdir=$(dirname "$pc")
is "$pcdir" "$R$(confvar pkgconfigdir)" "in the configured pkgconfigdir"

# Only the staged .pc (PKG_CONFIG_LIBDIR, so that one installed on this
# machine is not found instead), with its paths moved into the staging
# directory (PKG_CONFIG_SYSROOT_DIR).
pkgc() {
  PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_LIBDIR="$pcdir" PKG_CONFIG_SYSROOT_DIR="$R" pkg-config "$@"
}
is "$(pkgc --modversion holdingpen)" "$version" "pkg-config --modversion: $version"
cflags=$(pkgc --cflags holdingpen | sed "s/ *\$//")
libs=$(pkgc --libs holdingpen)
is "$cflags" "-I$R$includedir" "--cflags: -I the staged include directory"
like "$libs" "^-L$R$libdir -lholdingpen( |\$)" "--libs: -L the staged library directory, -lholdingpen"
like "$libs" "-lskarnet( |$)" "--libs: skalibs, which libholdingpen needs"
unlike "$libs" "-ls6( |$)" "--libs: not libs6, which libholdingpen does not call"

# An AddressSanitizer build installs an instrumented library: the example
# must link the sanitizer runtimes to use it.
san=
test -z "$HP_SANITIZED" || san="-fsanitize=address,undefined"
# shellcheck disable=SC2086
(cd "$T" && ${CC:-cc} $cflags $san -MD -MF "$T/cam.d" -Wl,-t -o "$T/claim-and-map" "$EXSRC" $libs) > "$T/cc.out" 2> "$T/cc.err"
rc=$?
is "$rc" 0 "the example compiles and links with the pkg-config flags"
test "$rc" -eq 0 || diag "$(cat "$T/cc.err")"
is "$(grep -c 'warning:' "$T/cc.err")" 0 "without warnings"
ok "holdingpen.h came from the staged tree" grep -q "$R$includedir/holdingpen/holdingpen.h" "$T/cam.d"
ok "config.h came from the staged tree" grep -q "$R$includedir/holdingpen/config.h" "$T/cam.d"
srcinc=$(cd "$HP_TESTDIR/.." && pwd)/src/include
ok "no header came from the source tree" test "$(grep -c "$srcinc" "$T/cam.d")" -eq 0
ok "libholdingpen came from the staged tree (linker trace)" grep -Eq "^$R($libdir|$dynlibdir)/libholdingpen\.(a|so)" "$T/cc.out" "$T/cc.err"
ok "and not from the build tree" test "$(grep -c "^$HP_BUILD/libholdingpen" "$T/cc.out" "$T/cc.err" | awk -F: '{ n += $NF } END { print n }')" -eq 0

hp_pool one 8M 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

out=$(timeout -s KILL 30 "$T/claim-and-map" -s "$HP_SOCKET" one 2> "$T/cam.err")
is "$?" 0 "claim-and-map exits 0"
like "$out" '^claimed lease=[0-9]+ kind=memfd size=8388608 zeroed=yes written=yes$' "it claims the 8 MiB slot, finds it zeroed, writes it"
is "$(cat "$T/cam.err")" "" "nothing on stderr"
ok "the slot comes back when it exits" hp_until 5000 hp_field_is one ready 1
out=$(timeout -s KILL 30 "$T/claim-and-map" -s "$HP_SOCKET" one 2> "$T/cam.err")
like "$out" 'zeroed=yes written=yes$' "a second run finds the slot zeroed again after the first one's writes"
out=$(timeout -s KILL 30 "$T/claim-and-map" -s "$HP_SOCKET" nosuchpool 2>&1)
is "$?" 2 "an unknown pool: exit 2"
like "$out" '^claim-and-map: fatal: pool nosuchpool: ' "with one line naming the pool"
"$T/claim-and-map" > /dev/null 2>&1
is "$?" 100 "no argument: usage, 100"

done_testing
