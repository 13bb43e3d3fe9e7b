#!/bin/sh
# The Debian packages, built, checked, installed and run for real:
#   - tools/deb.sh builds holdingpen and libholdingpen-dev in a clean copy
#     of the tree (the tree itself is left as it was), at the version of
#     package/info, with the service definitions of examples/ as they are;
#   - they hold the systemd unit, its scan directory's maker, the metrics
#     service and the manual pages;
#   - lintian reports no error and no warning;
#   - dpkg -i installs them on this machine and, without systemd, starts
#     nothing (with systemd, tests/97-seat.t); every file
#     of /etc/holdingpen is a conffile;
#   - the installed s6 service directory, copied into a scan directory under
#     a real s6-svscan, comes up ready on the configuration in /etc/holdingpen,
#     with the installed holdingpend and helper; the installed
#     holdingpen-claim claims from it, and the default rules deny others;
#   - pkg-config --cflags --libs holdingpen builds the installed copy of
#     examples/c against the installed header and library, and it claims;
#   - an upgrade to a rebuilt package with a higher version keeps a changed
#     conffile;
#   - dpkg --purge leaves nothing of what dpkg -L listed, and no
#     /etc/holdingpen.
# The packages are purged when the test exits, whatever happened.
. "$(dirname "$0")/lib.sh"

# The sanitizer pass (tools/sanitize.sh) runs the suite again on an
# instrumented build; the packages are built from the sources by
# dpkg-buildpackage, not from that build, so a second run would show nothing new.
test -z "$HP_SANITIZED" || skip_all "sanitizer pass: the packages are built from the sources, as in the plain pass"
command -v dpkg > /dev/null 2>&1 || skip_all "not a Debian system (no dpkg)"
top=$(cd "$HP_TESTDIR/.." && pwd)
test -f "$top/debian/control" && test -x "$top/tools/deb.sh" || skip_all "no debian/ and tools/deb.sh next to the tests"

# What building, checking and using the packages takes: the build
# dependencies, the tools, and what the installed programs depend on.
. "$top/tools/need-packages.sh"
need="$HP_PACKAGES $HP_DEB_PACKAGES lintian"
missing=
for p in $need ; do
  hp_package_installed "$p" || missing="${missing:+$missing }$p"
done
if test "$(id -u)" -ne 0 ; then
  test -z "$missing" || skip_all "missing Debian packages ($missing), and not root to install them"
  skip_all "installing packages with dpkg needs root"
fi
if test -n "$missing" ; then
  HP_PACKAGES=$need
  (hp_need_packages 92-deb.t) 1>&2 || bail_out "cannot install the build dependencies: $missing"
fi

# One run of this test at a time on the machine: another one would
# install and purge the same packages under it.
lock=/run/lock
test -d "$lock" || lock=/tmp
exec 9> "$lock/holdingpen-92-deb.lock"
flock -w 300 9 || bail_out "another run of 92-deb.t held $lock/holdingpen-92-deb.lock for 5 minutes"
for p in holdingpen libholdingpen-dev ; do
  if dpkg-query -W -f '${Status}\n' "$p" 2> /dev/null | grep -qv 'not-installed' ; then
    skip_all "the package $p is on this machine already: this test installs and purges it"
  fi
done

# On exit: the supervision tree down first, then the packages purged.
installed=
deb_cleanup() {
  hp_stop
  if test -n "$installed" ; then
    dpkg --purge holdingpen libholdingpen-dev < /dev/null > "$T/cleanup-purge.out" 2>&1 \
      || echo "# dpkg --purge on exit failed: $(cat "$T/cleanup-purge.out")" 1>&2
    installed=
  fi
}
trap '_rc=$? ; deb_cleanup ; (exit $_rc) ; hp__cleanup' EXIT

. "$top/package/info"
arch=$(dpkg --print-architecture)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2> /dev/null)
# notes FILE: a file's lines in the TAP output, for the reader of prove -v.
notes() {
  sed 's/^/  /' < "$1" | while IFS= read -r _l ; do note "$_l" ; done
}

# --- the build ---------------------------------------------------------------

is "$(cd "$top" && dpkg-parsechangelog -S Version)" "$version" "debian/changelog's version is package/info's ($version)"
if test -e "$top/.git" ; then
  before=$(cd "$top" && git status --porcelain --ignored -- debian)
fi
t0=$(hp_now_ms)
sh "$top/tools/deb.sh" "$T/v1" > "$T/build1.out" 2> "$T/build1.err"
rc=$?
is "$rc" 0 "tools/deb.sh builds the packages"
test "$rc" -eq 0 || { diag "$(cat "$T/build1.err")" ; bail_out "no packages to test" ; }
note "build: $(($(hp_now_ms) - t0)) ms"
if test -e "$top/.git" ; then
  is "$(cd "$top" && git status --porcelain --ignored -- debian)" "$before" "it built in a copy: debian/ in the tree is as it was"
fi
deb1="$T/v1/holdingpen_${version}_$arch.deb"
dev1="$T/v1/libholdingpen-dev_${version}_$arch.deb"
changes1="$T/v1/holdingpen_${version}_$arch.changes"
ok "holdingpen_${version}_$arch.deb" test -f "$deb1"
ok "libholdingpen-dev_${version}_$arch.deb" test -f "$dev1"
ok "and the .changes" test -f "$changes1"
note "$(cd "$T/v1" && ls -l -- *.deb)"

# What is in them, before installing anything.
mkdir "$T/x"
dpkg-deb -x "$deb1" "$T/x" && dpkg-deb -x "$dev1" "$T/x"
for p in holdingpen-daemon holdingpend holdingpen-claim holdingpen-status holdingpen-revoke ; do
  ok "holdingpen: /usr/bin/$p" test -x "$T/x/usr/bin/$p"
done
ok "holdingpen: /usr/libexec/holdingpen/holdingpen-helper" test -x "$T/x/usr/libexec/holdingpen/holdingpen-helper"
ok "holdingpend runs the helper from there (compiled in)" grep -q "/usr/libexec/holdingpen/" "$T/x/usr/bin/holdingpend"
ok "holdingpen: the HTML documentation in /usr/share/doc/holdingpen/html" test -f "$T/x/usr/share/doc/holdingpen/html/index.html" -a -f "$T/x/usr/share/doc/holdingpen/html/debian.html"
ok "holdingpen: the examples in /usr/share/doc/holdingpen/examples" test -f "$T/x/usr/share/doc/holdingpen/examples/c/claim-and-map.c"
ok "libholdingpen-dev: the header" test -f "$T/x/usr/include/holdingpen/holdingpen.h"
ok "libholdingpen-dev: the static library" test -f "$T/x/usr/lib/$ma/libholdingpen.a"
ok "libholdingpen-dev: holdingpen.pc" test -f "$T/x/usr/lib/$ma/pkgconfig/holdingpen.pc"
# One source: the service definitions are the examples', byte for byte.
for f in run notification-fd log/run ; do
  ok "the s6 service's $f is examples/s6/holdingpen/$f" cmp -s "$top/examples/s6/holdingpen/$f" "$T/x/usr/share/holdingpen/s6/holdingpen/$f"
done
for f in run notification-fd log/run ; do
  ok "the fd holder's s6 service's $f is examples/s6/holdingpen-fdholder/$f" cmp -s "$top/examples/s6/holdingpen-fdholder/$f" "$T/x/usr/share/holdingpen/s6/holdingpen-fdholder/$f"
done
for f in run env/INTERVAL env/TEXTFILE_DIR ; do
  ok "the metrics service's $f is examples/s6/holdingpen-metrics/$f" cmp -s "$top/examples/s6/holdingpen-metrics/$f" "$T/x/usr/share/holdingpen/s6/holdingpen-metrics/$f"
done
unit=$(find "$T/x/lib/systemd/system" "$T/x/usr/lib/systemd/system" -name holdingpen.service 2> /dev/null | head -n 1)
ok "the systemd unit holdingpen.service" test -n "$unit"
like "$(grep '^ExecStart=' "$unit" 2> /dev/null)" "^ExecStart=/usr/bin/s6-svscan /run/holdingpen/service\$" "it runs s6-svscan on holdingpen's own scan directory"
ok "and the program that makes that directory" test -x "$T/x/usr/libexec/holdingpen/holdingpen-scandir"
for m in man1/holdingpen-claim.1 man1/holdingpen-status.1 man8/holdingpen-revoke.8 man8/holdingpen-daemon.8 man8/holdingpend.8 man8/holdingpen-helper.8 man5/holdingpen-pooldir.5 ; do
  ok "the manual page $m" test -f "$T/x/usr/share/man/$m.gz"
done
is "$(readlink "$T/x/usr/share/holdingpen/s6/holdingpen-fdholder/rules")" "/etc/holdingpen/fdholder-rules" "the fd holder's rules are /etc/holdingpen's"
for s in holdingpen holdingpen-log holdingpen-fdholder ; do
  ok "the s6-rc definition $s is examples/s6-rc/$s" diff -r "$top/examples/s6-rc/$s" "$T/x/usr/share/holdingpen/s6-rc/$s"
done
is "$(readlink "$T/x/usr/share/holdingpen/s6/holdingpen/pools") $(readlink "$T/x/usr/share/holdingpen/s6/holdingpen/rules")" \
  "/etc/holdingpen/pools /etc/holdingpen/rules" "its pools and rules are /etc/holdingpen's (absolute links)"
deps=$(dpkg-deb -f "$deb1" Depends)
like "$deps" "(^|, )s6( |,|\$)" "holdingpen depends on s6"
like "$deps" "(^|, )execline( |,|\$)" "and on execline"
like "$deps" "libskarnet" "and on the shared libraries it links (shlibs)"

# --- lintian ------------------------------------------------------------------

lintian "$changes1" > "$T/lintian.out" 2> "$T/lintian.err"
lrc=$?
is "$(grep -c '^[EW]: ' "$T/lintian.out")" 0 "lintian: no error and no warning"
is "$lrc" 0 "lintian exits 0"
if test -s "$T/lintian.out" ; then notes "$T/lintian.out" ; else note "lintian said nothing" ; fi

# --- install ------------------------------------------------------------------

installed=1
dpkg -i "$deb1" "$dev1" < /dev/null > "$T/install1.out" 2>&1
is "$?" 0 "dpkg -i installs both packages"
notes "$T/install1.out"
is "$(dpkg-query -W -f '${Status} ${Version}' holdingpen)" "install ok installed $version" "holdingpen $version is installed"
is "$(dpkg-query -W -f '${Status} ${Version}' libholdingpen-dev)" "install ok installed $version" "libholdingpen-dev $version is installed"

# started_by_package: the live processes running the installed binaries.
started_by_package() {
  for _d in /proc/[0-9]* ; do
    case $(readlink "$_d/exe" 2> /dev/null) in
      /usr/bin/holdingpend|/usr/libexec/holdingpen/holdingpen-helper) echo "${_d#/proc/}" ;;
    esac
  done
}
if test -d /run/systemd/system ; then
  # there, holdingpen.service is started on install: tests/97-seat.t
  skip "systemd runs this machine: installing starts holdingpen.service"
else
  is "$(started_by_package)" "" "without systemd, installing started no broker and no helper: nothing is reserved"
fi

conffiles=$(dpkg-query -W -f '${Conffiles}\n' holdingpen | awk 'NF { print $1 }' | LC_ALL=C sort)
etcfiles=$(find /etc/holdingpen -type f | LC_ALL=C sort)
ok "/etc/holdingpen has pools and rules" test -f /etc/holdingpen/pools/default/size -a -f /etc/holdingpen/rules/uid/0/allow
is "$conffiles" "$etcfiles" "every file of /etc/holdingpen is a conffile"
dpkg -L holdingpen > "$T/list-holdingpen"
dpkg -L libholdingpen-dev > "$T/list-dev"

# The admin's change, which the upgrade must keep: smaller slots.
echo 16M > /etc/holdingpen/pools/default/size

# --- the installed service, under s6-svscan -----------------------------------

HP_SCANDIR="$T/scan"
HP_SVC="$HP_SCANDIR/holdingpen"
HP_SOCKET="$T/sock"
mkdir "$HP_SCANDIR"
cp -a /usr/share/holdingpen/s6/holdingpen "$HP_SVC"
# The one change, which the doc tells the admin how to make: the socket is
# $T/sock, not /run/holdingpen.socket, which a real broker may be using.
sed -i -e "/^holdingpen-daemon /s| /run/holdingpen.socket\$| $HP_SOCKET|" \
  -e "/^holdingpen-daemon /s| -f /run/holdingpen-fdholder.socket | -f $T/fdh |" "$HP_SVC/run"
is "$(diff /usr/share/holdingpen/s6/holdingpen/run "$HP_SVC/run" | grep -c '^>')" 1 "the copied run script differs in its sockets only"
like "$(tail -n 1 "$HP_SVC/run")" "^holdingpen-daemon -1( -r [0-9]+)? -f $T/fdh -i rules -p pools $HP_SOCKET\$" "the run line"
# and the fd holder beside it, on $T/fdh
cp -a /usr/share/holdingpen/s6/holdingpen-fdholder "$HP_SCANDIR/holdingpen-fdholder"
sed -i "s| /run/holdingpen-fdholder.socket\$| $T/fdh|" "$HP_SCANDIR/holdingpen-fdholder/run"
# Only the installed programs: no build tree in the PATH.
PATH=/usr/bin:/bin s6-svscan "$HP_SCANDIR" < /dev/null > "$T/svscan.log" 2>&1 9>&- &
HP_SVSCAN_PID=$!
ok "s6-svscan starts the service" hp_until 5000 hp_supervised "$HP_SVC"
ok "s6-svwait -U: the service becomes ready (its readiness notification)" s6-svwait -U -t 20000 "$HP_SVC"
d=$(hp_daemon_pid)
is "$(readlink "/proc/$d/exe")" /usr/bin/holdingpend "the service is the installed holdingpend"
helpers=$(hp_helper_pids "$d")
is "$(printf '%s\n' "$helpers" | grep -c .)" 2 "two helpers, the default pool's count"
h1=$(printf '%s\n' "$helpers" | head -n 1)
is "$(readlink "/proc/$h1/exe")" /usr/libexec/holdingpen/holdingpen-helper "they are the installed helper"
st=$(timeout -s KILL 20 /usr/bin/holdingpen-status -s "$HP_SOCKET" -k default 2>&1)
like "$st" "^pool=default .*kind=memfd" "the installed holdingpen-status lists pool default from /etc/holdingpen/pools"
like "$st" "^pool=default .*size=16777216( |\$)" "with the changed size, 16M"
like "$st" "^pool=default .*ready=2( |\$)" "both slots ready at readiness"

out=$(timeout -s KILL 30 /usr/bin/holdingpen-claim -s "$HP_SOCKET" default \
  sh -c 'echo "pool=$HOLDINGPEN_POOL kind=$HOLDINGPEN_KIND size=$HOLDINGPEN_SIZE lease=$HOLDINGPEN_LEASE" ; test -e "/proc/self/fd/$HOLDINGPEN_FD" && echo fd=open' 2> "$T/claim.err")
is "$?" 0 "the installed holdingpen-claim claims from the default pool"
note "claim: $out"
like "$out" "^pool=default kind=memfd size=16777216 lease=[0-9]+" "and runs its program with the slot"
like "$out" "fd=open" "which holds the slot's descriptor"
cur="$HP_SVC/log/main/current"
ok "the service's logger has the grant" hp_until 5000 grep -q ' event=grant pool=default ' "$cur"

# The default rules give nothing to anyone but root.
if chmod 755 "$T" && s6-applyuidgid -u 65534 -g 65534 -G "" test -r /usr/bin/holdingpen-claim ; then
  timeout -s KILL 30 s6-applyuidgid -u 65534 -g 65534 -G "" /usr/bin/holdingpen-claim -s "$HP_SOCKET" -n default true 2> /dev/null
  is "$?" 1 "the default rules deny a claim by nobody"
else
  skip "uid 65534 cannot reach the socket"
fi

# --- the C client, against the installed header and library -------------------

unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
cflags=$(pkg-config --cflags holdingpen)
libs=$(pkg-config --libs holdingpen)
is "$?" 0 "pkg-config finds the installed holdingpen.pc"
note "pkg-config --cflags --libs holdingpen: $cflags $libs"
exsrc=/usr/share/doc/holdingpen/examples/c/claim-and-map.c
ok "the installed example is examples/c/claim-and-map.c" cmp -s "$exsrc" "$top/examples/c/claim-and-map.c"
# shellcheck disable=SC2086
(cd "$T" && ${CC:-cc} $cflags -MD -MF "$T/cam.d" -Wl,-t -o "$T/claim-and-map" "$exsrc" $libs) > "$T/cc.out" 2> "$T/cc.err"
rc=$?
is "$rc" 0 "it builds with pkg-config's flags alone"
test "$rc" -eq 0 && test -s "$T/cc.err" && diag "$(cat "$T/cc.err")"
ok "against the installed header" grep -q "/usr/include/holdingpen/holdingpen.h" "$T/cam.d"
# The linker names the archive as it found it, through the compiler's
# search path (/usr/lib/gcc/.../../../../lib/...): compare the real paths.
lib=$(cat "$T/cc.out" "$T/cc.err" | grep -o '[^ ()]*libholdingpen\.a' | head -n 1)
is "$(test -n "$lib" && readlink -f "$lib")" "/usr/lib/$ma/libholdingpen.a" "and the installed library (linker trace)"
out=$(timeout -s KILL 30 "$T/claim-and-map" -s "$HP_SOCKET" default 2>&1)
is "$?" 0 "the example claims from the installed service"
like "$out" '^claimed lease=[0-9]+ kind=memfd size=16777216 zeroed=yes written=yes$' "and gets a zeroed, writable 16M memfd"
note "claim-and-map: $out"

hp_stop
ok "the broker and its helpers are gone with s6-svscan" hp_until 5000 hp_all_dead $d $helpers

# --- upgrade ------------------------------------------------------------------

v2="$version+1"
sh "$top/tools/deb.sh" -V "$v2" "$T/v2" > "$T/build2.out" 2> "$T/build2.err"
is "$?" 0 "tools/deb.sh -V $v2 rebuilds them with a higher version"
dpkg --compare-versions "$v2" gt "$version"
is "$?" 0 "$v2 is higher than $version for dpkg"
dpkg -i "$T/v2/holdingpen_${v2}_$arch.deb" "$T/v2/libholdingpen-dev_${v2}_$arch.deb" < /dev/null > "$T/install2.out" 2>&1
is "$?" 0 "dpkg -i upgrades both, with no question asked (stdin is /dev/null)"
notes "$T/install2.out"
is "$(dpkg-query -W -f '${Version}' holdingpen)" "$v2" "holdingpen $v2 is installed"
is "$(cat /etc/holdingpen/pools/default/size)" 16M "the changed conffile is kept"
is "$(cat /etc/holdingpen/pools/default/count)" 2 "the others are there"
is "$(find /etc/holdingpen -name '*.dpkg-*' | wc -l | tr -d ' ')" 0 "no .dpkg-new or .dpkg-dist file beside them"
dpkg -L holdingpen >> "$T/list-holdingpen"
dpkg -L libholdingpen-dev >> "$T/list-dev"

# --- purge --------------------------------------------------------------------

dpkg --purge holdingpen libholdingpen-dev < /dev/null > "$T/purge.out" 2>&1
is "$?" 0 "dpkg --purge removes both"
installed=
notes "$T/purge.out"
is "$(dpkg-query -W -f '${Status}' holdingpen 2> /dev/null | grep -c 'install ok')" 0 "holdingpen is not installed any more"
ok "/etc/holdingpen is gone" test ! -e /etc/holdingpen
# left: what the lists name and is still there, but for the directories
# that other packages own too (/usr/bin...).
: > "$T/left"
LC_ALL=C sort -u "$T/list-holdingpen" "$T/list-dev" | while IFS= read -r f ; do
  case $f in /.|'') continue ;; esac
  # a directory of the package that is a link on a merged-/usr system
  # (/lib -> usr/lib): the system's, not the package's
  test -h "$f" && test -d "$f" && continue
  if test -h "$f" || test -f "$f" ; then
    echo "$f" >> "$T/left"
  elif test -d "$f" && ! dpkg-query -S "$f" > /dev/null 2>&1 ; then
    echo "$f" >> "$T/left"
  fi
done
is "$(cat "$T/left")" "" "nothing that dpkg -L listed is left ($(LC_ALL=C sort -u "$T/list-holdingpen" "$T/list-dev" | wc -l | tr -d ' ') paths)"

done_testing
