# tools/need-packages.sh, sourced by tools/check.sh, tools/demo.sh and tools/deb.sh: make sure the
# Debian packages needed to build, test and run holdingpen are installed.
#
#   hp_need_packages NAME [ test ]
#
# With "test", also what the test suite uses beyond building: clang and its
# runtime for the fuzzers, valgrind for the daemon's memory check,
# dosfstools for a filesystem without hole punching, prometheus for promtool
# (the check of holdingpen-status -m and of the alerting rules), man-db for
# the manual pages, debhelper, dpkg-dev and lintian to build and check the
# Debian packages, and mmdebstrap and systemd-container (systemd-nspawn) for
# the seat test (tools/seat.sh), which boots them on Debian 12.
#
# As root, installs the missing ones (one apt-get update, one apt-get
# install). As another user, prints one line naming them and exits 100.
# On a system without dpkg, says so and carries on: configure will tell what
# is missing.

# tools/deb.sh adds these to build the Debian packages
HP_DEB_PACKAGES="debhelper dpkg-dev"
HP_PACKAGES="build-essential skalibs-dev libs6-dev s6 libexecline-dev execline perl pkg-config"
# tests/97-seat.t adds these to boot a Debian 12 seat in a container
HP_SEAT_PACKAGES="mmdebstrap systemd-container"
HP_TEST_PACKAGES="clang libclang-rt-14-dev valgrind dosfstools prometheus man-db $HP_DEB_PACKAGES lintian $HP_SEAT_PACKAGES"

hp_package_installed () {
  dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

hp_need_packages () {
  if ! command -v dpkg >/dev/null 2>&1 ; then
    echo "$1: warning: no dpkg, not checking for the packages: $HP_PACKAGES" 1>&2
    return 0
  fi
  hp_missing=
  hp_want=$HP_PACKAGES
  test "$2" = test && hp_want="$hp_want $HP_TEST_PACKAGES"
  for hp_p in $hp_want ; do
    hp_package_installed "$hp_p" || hp_missing="${hp_missing:+$hp_missing }$hp_p"
  done
  test -n "$hp_missing" || return 0
  if test "$(id -u)" -ne 0 ; then
    echo "$1: fatal: missing Debian packages: as root, run: apt-get install $hp_missing" 1>&2
    exit 100
  fi
  echo "$1: installing the missing Debian packages: $hp_missing"
  apt-get update || { echo "$1: fatal: apt-get update failed" 1>&2 ; exit 111 ; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $hp_missing \
    || { echo "$1: fatal: unable to install: $hp_missing" 1>&2 ; exit 111 ; }
}
