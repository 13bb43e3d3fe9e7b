#!/bin/sh
#
# ISC license: see COPYING.
#
# tools/seat-rootfs.sh [ -c cachedir ]
#
# Prints the path of a tar archive of a Debian 12 root file system for
# tools/seat.sh, making it with mmdebstrap the first time: systemd, dbus,
# man-db, s6 and execline (so the holdingpen package installs without
# the network), prometheus-node-exporter and curl. The archive is taken
# from this machine's own apt sources (the entries for bookworm), so the
# tree names no archive host. The archive is kept in cachedir (default:
# /var/cache/holdingpen-seat), under a name made from the package list and
# the sources, and made again only when one of them changes.
#
# Exit codes: 0 done, 100 wrong usage, 111 system call failed, 99 this
# machine cannot (no bookworm in its apt sources, no mmdebstrap).

PROG=seat-rootfs.sh
die () { echo "$PROG: fatal: $*" 1>&2 ; exit 111 ; }
cannot () { echo "$PROG: fatal: $*" 1>&2 ; exit 99 ; }

cache=/var/cache/holdingpen-seat
while getopts c: opt ; do
  case "$opt" in
    c) cache=$OPTARG ;;
    *) echo "usage: $PROG [ -c cachedir ]" 1>&2 ; exit 100 ;;
  esac
done

SUITE=bookworm
PACKAGES="systemd systemd-sysv dbus libpam-modules passwd procps man-db s6 execline prometheus-node-exporter curl"

command -v mmdebstrap > /dev/null 2>&1 || cannot "no mmdebstrap"

# The machine's apt sources for $SUITE, in the deb822 format: the
# one-line entries of sources.list and sources.list.d/*.list, and the
# stanzas of sources.list.d/*.sources, whose suite is $SUITE,
# $SUITE-updates or $SUITE-security. Other sources (other distributions,
# third parties) are left out.
sources=$(perl -e '
  my $suite = shift;
  my $re = qr/^\Q$suite\E(?:-updates|-security)?$/;
  my @out;
  for my $f (grep { -f } "/etc/apt/sources.list", glob("/etc/apt/sources.list.d/*.list")) {
    open my $h, "<", $f or next;
    while (<$h>) {
      s/#.*//; next unless /^\s*deb\s/;
      my @w = split;
      shift @w;
      my $opts = "";
      if ($w[0] =~ /^\[/) { $opts = shift @w; while ($opts !~ /\]$/ && @w) { $opts .= " " . shift @w } }
      my ($uri, $s, @c) = @w;
      next unless defined $s && $s =~ $re;
      my $st = "Types: deb\nURIs: $uri\nSuites: $s\nComponents: " . join(" ", @c) . "\n";
      $st .= "Signed-By: $1\n" if $opts =~ /signed-by=([^\s\]]+)/;
      push @out, $st;
    }
  }
  for my $f (glob("/etc/apt/sources.list.d/*.sources")) {
    open my $h, "<", $f or next;
    local $/ = "";
    while (my $st = <$h>) {
      $st = join "", grep { !/^\s*#/ } split /^/m, $st;
      next unless $st =~ /^Types:.*\bdeb\b/mi;
      next if $st =~ /^Enabled:\s*no/mi;
      my ($s) = $st =~ /^Suites:\s*(.*)$/mi;
      next unless defined $s;
      my @keep = grep { $_ =~ $re } split " ", $s;
      next unless @keep;
      $st =~ s/^Suites:.*$/"Suites: " . join(" ", @keep)/mie;
      $st =~ s/\n*$/\n/;
      push @out, $st;
    }
  }
  print join("\n", @out);
' "$SUITE") || die "unable to read the apt sources"
test -n "$sources" || cannot "no $SUITE entry in this machine's apt sources"

key=$(printf '%s\n%s\n%s\n' "$SUITE" "$PACKAGES" "$sources" | sha256sum | cut -c1-16)
tarball="$cache/rootfs-$SUITE-$key.tar"
if test -s "$tarball" ; then
  echo "$tarball"
  exit 0
fi
mkdir -p -- "$cache" || die "unable to create $cache"
# one maker at a time; a second one waits and then finds the archive
exec 8> "$cache/.lock"
flock -w 1200 8 || die "another run held $cache/.lock for 20 minutes"
if test -s "$tarball" ; then
  echo "$tarball"
  exit 0
fi
src="$cache/sources-$key.sources"
printf '%s\n' "$sources" > "$src" || die "unable to write $src"
rm -f -- "$tarball.tmp"
# a minimal system; the holdingpen package's dependencies are there, so
# that apt installs it from its file without the network
mmdebstrap --variant=minbase --format=tar --include="$(echo $PACKAGES | tr ' ' ,)" \
  "$SUITE" "$tarball.tmp" "$src" 1>&2 || { rm -f -- "$tarball.tmp" ; die "mmdebstrap failed" ; }
mv -f -- "$tarball.tmp" "$tarball" || die "unable to rename $tarball.tmp"
echo "$tarball"
