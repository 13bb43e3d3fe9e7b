#!/bin/sh
#
# install.sh [ -D ] [ -m mode ] src dst
# install.sh [ -D ] -l target dst
#
# Installs src as dst (or makes dst a symlink to target with -l), atomically:
# the new file is written next to dst under a temporary name and renamed over
# it, so a running program never sees a half-written binary and a library in
# use is replaced, not overwritten.
#   -D       create the missing parent directories of dst (mode 0755)
#   -m mode  mode of the installed file (default 0755)
#   -l       make a symbolic link; target is written as given

prog=install.sh

usage () {
  echo "usage: $prog [ -D ] [ -m mode ] src dst | $prog [ -D ] -l target dst" 1>&2
  exit 100
}

die () {
  echo "$prog: fatal: $*" 1>&2
  exit 111
}

mkparents=false
link=false
mode=0755

while getopts Dlm: opt ; do
  case "$opt" in
    D) mkparents=true ;;
    l) link=true ;;
    m) mode=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
test "$#" -eq 2 || usage
src=$1
dst=$2

case "$dst" in
  */) die "destination $dst ends with a slash: name the file" ;;
  */*) dir=${dst%/*} ; base=${dst##*/} ;;
  *) dir=. ; base=$dst ;;
esac
test -n "$dir" || dir=/

if test -d "$dst" && ! test -h "$dst" ; then
  die "$dst is a directory"
fi

if $mkparents && ! test -d "$dir" ; then
  (umask 022 && mkdir -p -- "$dir") || die "unable to create directory $dir"
fi

tmp="$dir/.$base.tmp.$$"
trap 'rm -f -- "$tmp"' EXIT
trap 'exit 111' HUP INT QUIT TERM

if $link ; then
  ln -s -- "$src" "$tmp" || die "unable to create symlink $tmp"
else
  test -f "$src" || die "$src: no such file"
  (umask 077 && cat < "$src" > "$tmp") || die "unable to copy $src to $tmp"
  chmod "$mode" "$tmp" || die "unable to chmod $tmp"
fi

# mv -T: rename over a symlink to a directory instead of moving into it
mv -f -T -- "$tmp" "$dst" 2>/dev/null || mv -f -- "$tmp" "$dst" || die "unable to rename $tmp to $dst"
