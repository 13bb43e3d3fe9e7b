#!/bin/sh
# The seat test: the Debian package on a Debian 12 system booted by
# systemd in a container (tools/seat.sh says what it checks). It needs
# root, systemd-nspawn, mmdebstrap and this machine's apt sources for
# bookworm; the root file system is kept between runs in
# /var/cache/holdingpen-seat (HP_SEAT_CACHE to change it).
# This file only says whether the machine can, then hands over to
# tools/seat.sh, whose output is the TAP of this test.

skip_all() { echo "1..0 # SKIP $*" ; exit 0 ; }

top=$(cd "$(dirname "$0")/.." && pwd)
test -z "$HP_SANITIZED" || skip_all "sanitizer pass: the packages are built from the sources, as in the plain pass"
test -x "$top/tools/seat.sh" || skip_all "no tools/seat.sh"
command -v dpkg > /dev/null 2>&1 || skip_all "not a Debian system (no dpkg)"
. "$top/tools/need-packages.sh"
missing=
for p in $HP_SEAT_PACKAGES $HP_DEB_PACKAGES ; do
  hp_package_installed "$p" || missing="${missing:+$missing }$p"
done
if test "$(id -u)" -ne 0 ; then
  skip_all "not root: booting a container needs root"
fi
if test -n "$missing" ; then
  HP_PACKAGES="$HP_SEAT_PACKAGES $HP_DEB_PACKAGES"
  (hp_need_packages 97-seat.t) 1>&2 || skip_all "cannot install $missing"
fi
for c in systemd-nspawn mmdebstrap nsenter ; do
  command -v "$c" > /dev/null 2>&1 || skip_all "no $c"
done
test -d /sys/fs/cgroup || skip_all "no cgroup file system: systemd-nspawn cannot boot a container"
grep -Eqs '^[^#]*bookworm' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
  || skip_all "no bookworm in this machine's apt sources: no Debian 12 to install"

# One seat at a time on the machine: two would fight over the cache and
# the CPU.
exec 9> /run/lock/holdingpen-seat.lock 2> /dev/null || exec 9> /tmp/holdingpen-seat.lock
flock -w 900 9 || skip_all "another seat test held the lock for 15 minutes"
exec sh "$top/tools/seat.sh" -c "${HP_SEAT_CACHE:-/var/cache/holdingpen-seat}" 9>&-
