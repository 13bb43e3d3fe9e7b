#!/bin/sh
#
# tools/deb.sh [ -V version ] [ outdir ]
#
# Builds the Debian packages holdingpen and libholdingpen-dev
# (dpkg-buildpackage -us -uc -b) in a clean copy of this tree: the files git
# knows, with their uncommitted changes, and the new files git does not
# ignore, so that nothing built here (objects, config.mak) gets in. Moves
# the .deb, .buildinfo and .changes files into outdir (default: dist/deb
# in this tree) and prints their names.
#   -V version  build them as this version: a changelog entry is added in
#               the copy, the tree is left alone (to try an upgrade)
#
# Installs the missing build dependencies when run as root, like check.sh.

PROG=deb.sh
usage () {
  echo "usage: $PROG [ -V version ] [ outdir ]" 1>&2
  exit 100
}
die () {
  echo "$PROG: fatal: $*" 1>&2
  exit 111
}

newversion=
while getopts V: opt ; do
  case "$opt" in
    V) newversion=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
test "$#" -le 1 || usage
outdir=${1:-$(dirname "$0")/../dist/deb}
case "$newversion" in
  *[!0-9A-Za-z.+~]*) echo "$PROG: fatal: $newversion is not a version for a native package" 1>&2 ; exit 100 ;;
esac

# a relative outdir is relative to where we were called from
mkdir -p -- "$outdir" || die "unable to create $outdir"
outdir=$(cd -- "$outdir" && pwd -P) || die "unable to enter $outdir"
cd "$(dirname "$0")/.." || die "unable to enter the source tree"

. tools/need-packages.sh
HP_PACKAGES="$HP_PACKAGES $HP_DEB_PACKAGES"
hp_need_packages "$PROG"

. package/info
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hp-deb.XXXXXX") || die "unable to create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 111' HUP INT QUIT TERM
# dpkg-buildpackage writes its outputs into the parent of the tree it builds
src="$tmp/$package-$version"
mkdir "$src" || die "unable to create $src"
# .git is a directory, or a file in a worktree made by git worktree
if test -e .git && command -v git > /dev/null 2>&1 ; then
  git ls-files -co --exclude-standard -z | xargs -0r sh -c 'for f ; do test -e "$f" -o -h "$f" && printf "%s\0" "$f" ; done' sh \
    | tar --null -cf - -T - | tar -xf - -C "$src" || die "unable to copy the tree"
else
  # not a checkout (an unpacked tarball): debian/rules clean runs
  # make distclean first, which removes what a build left
  tar --exclude=./dist -cf - . | tar -xf - -C "$src" || die "unable to copy the tree"
fi

if test -n "$newversion" ; then
  {
    echo "$package ($newversion) unstable; urgency=medium"
    echo
    echo "  * Rebuild as $newversion."
    echo
    echo " -- $(sed -n 's/^Maintainer: //p' "$src/debian/control")  $(date -R)"
    echo
    cat "$src/debian/changelog"
  } > "$src/debian/changelog.new" && mv -f "$src/debian/changelog.new" "$src/debian/changelog" \
    || die "unable to add a changelog entry for $newversion"
fi

(cd "$src" && dpkg-buildpackage -us -uc -b) > "$tmp/build.log" 2>&1 || {
  tail -n 40 "$tmp/build.log" 1>&2
  echo "$PROG: fatal: dpkg-buildpackage failed (last lines above)" 1>&2
  exit 1
}
for f in "$tmp"/*.deb "$tmp"/*.buildinfo "$tmp"/*.changes ; do
  test -f "$f" || die "dpkg-buildpackage made no ${f##*.} file"
  mv -f -- "$f" "$outdir/" || die "unable to move $f into $outdir"
  echo "$outdir/${f##*/}"
done
