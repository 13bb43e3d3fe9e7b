#!/bin/sh
#
# doc-check.sh [ srcdir ]
#
# Checks that the HTML documentation keeps up with the programs, and prints
# the result as TAP (run by "make doc-check" and by tests/43-doc-check.t):
#   - every program of package/targets.mak (BIN_TARGETS, LIBEXEC_TARGETS)
#     has a page doc/<prog>.html, and doc/index.html links to it;
#   - every option letter in the program's USAGE string (the #define USAGE
#     line of src/holdingpen/<prog>.c, or src/<prog>/<prog>.c for a program
#     of several files) appears on its page, written as the
#     pages write an option: <tt>-X followed by &nbsp;, a space or </tt>;
#   - every relative link of every page in doc/ points to a page that
#     exists, and to an anchor that exists in it when it names one;
#   - every page of doc/ is linked from doc/index.html;
#   - every refusal of holdingpend's table (src/holdingpend/refusal.c) is
#     in the log table of doc/holdingpend.html: its event has a row, and
#     its reason is among the words of that row;
#   - every refusal counter of the protocol (HOLDINGPEN_COUNTERS_REFUSED,
#     src/include/holdingpen/protocol.h) is a key of the counters= record
#     in doc/protocol.html, and a reason of holdingpen_claims_refused_total
#     in doc/holdingpen-status.html.
# srcdir: the source tree (default: the parent of this script's directory).
# Needs nothing built. Exits 1 if a check fails, 0 otherwise.

root=${1:-$(dirname "$0")/..}
doc="$root/doc"

n=0
failed=0
pass() { n=$((n + 1)) ; echo "ok $n - $*" ; }
fail() { n=$((n + 1)) ; failed=$((failed + 1)) ; echo "not ok $n - $*" ; }
check() {
  _c_desc=$1 ; shift
  if "$@" ; then pass "$_c_desc" ; else fail "$_c_desc" ; fi
}
finish() {
  echo "1..$n"
  if test "$failed" -gt 0 ; then
    echo "# doc-check: $failed of $n checks failed" 1>&2
    exit 1
  fi
  exit 0
}

if ! test -f "$root/package/targets.mak" || ! test -d "$doc" ; then
  fail "$root has package/targets.mak and doc/"
  finish
fi

# The words of the BIN_TARGETS and LIBEXEC_TARGETS assignments, which may
# continue over several lines with backslashes.
progs=$(awk '
  /^(BIN|LIBEXEC)_TARGETS[ \t]*:?=/ { on = 1 ; sub(/^[^=]*=/, "") }
  on { cont = sub(/\\[ \t]*$/, "") ; n = split($0, w) ; for (i = 1; i <= n; i++) print w[i] ; on = cont }
' "$root/package/targets.mak")
check "package/targets.mak lists programs" test -n "$progs"

# links FILE: the targets of the href attributes of FILE, one per line.
links() {
  tr '\n' ' ' < "$1" | grep -o 'href="[^"]*"' | sed 's/^href="//; s/"$//'
}

# has_option PAGE LETTER: the page has <tt>-LETTER then &nbsp;, a space or </tt>.
has_option() {
  grep -q -e "<tt>-$2&nbsp;" -e "<tt>-$2 " -e "<tt>-$2</tt>" "$1"
}

index_links=$(links "$doc/index.html" 2> /dev/null)

for p in $progs ; do
  page="$doc/$p.html"
  check "doc/$p.html exists" test -f "$page"
  check "doc/index.html links to $p.html" sh -c 'printf "%s\n" "$1" | grep -qx "$2"' sh "$index_links" "$p.html"
  src="$root/src/holdingpen/$p.c"
  test -f "$src" || src="$root/src/$p/$p.c"
  usage=$(sed -n 's/^#define USAGE "\(.*\)".*$/\1/p' "$src" 2> /dev/null | head -n 1)
  if test -z "$usage" ; then
    fail "${src#$root/} has a #define USAGE line"
    continue
  fi
  # The options are the words of the usage string that are a dash and one
  # character; the brackets and bars around them are not words.
  opts=$(printf '%s\n' "$usage" | tr '[]|' '   ' | tr ' \t' '\n\n' | grep -E '^-[A-Za-z0-9]$' | LC_ALL=C sort -u)
  if test -z "$opts" ; then
    pass "$p takes no option"
  fi
  for o in $opts ; do
    letter=${o#-}
    if test -f "$page" && has_option "$page" "$letter" ; then
      pass "doc/$p.html documents $o"
    else
      fail "doc/$p.html documents $o (from the usage: $usage)"
    fi
  done
done

# Every relative link of every page resolves, anchors included.
for page in "$doc"/*.html ; do
  test -f "$page" || continue
  name=${page##*/}
  for l in $(links "$page" | LC_ALL=C sort -u) ; do
    case $l in
      http:*|https:*|ftp:*|mailto:*|//*|../*|/*) continue ;;
    esac
    file=${l%%#*}
    test -n "$file" || file=$name
    case $l in
      *#*) anchor=${l#*#} ;;
      *) anchor= ;;
    esac
    if ! test -f "$doc/$file" ; then
      fail "$name: link to $l: doc/$file does not exist"
    elif test -n "$anchor" && ! grep -q -e "name=\"$anchor\"" -e "id=\"$anchor\"" "$doc/$file" ; then
      fail "$name: link to $l: no anchor $anchor in $file"
    else
      pass "$name: link to $l"
    fi
  done
done

# Every page can be reached from the index.
for page in "$doc"/*.html ; do
  name=${page##*/}
  test "$name" = index.html && continue
  check "doc/index.html links to $name" sh -c 'printf "%s\n" "$1" | sed "s/#.*//" | grep -qx "$2"' sh "$index_links" "$name"
done

# row PAGE FIRSTCELL: the row of a table of PAGE whose first cell starts
# with FIRSTCELL, on one line; empty if there is none.
row() {
  tr '\n' ' ' < "$1" 2> /dev/null | awk -v f="<td>$2" '
    { n = split($0, r, "<tr>") ; for (i = 2; i <= n; i++) if (index(r[i], f) == 1) { print r[i] ; exit } }'
}

# has_word TEXT WORD: TEXT has <tt>WORD</tt>.
has_word() {
  printf '%s\n' "$1" | grep -qF "<tt>$2</tt>"
}

# The refusals, as event:reason (reason 0: the event alone says it).
refusals=$(sed -n 's/^ *\[REFUSAL_[A-Z]*\] *= *{ *\.event = "\([a-z-]*\)", *\.reason = "*\([a-z0]*\)"*,.*$/\1:\2/p' "$root/src/holdingpend/refusal.c" 2> /dev/null)
check "src/holdingpend/refusal.c has the table of refusals" test -n "$refusals"
for r in $refusals ; do
  event=${r%%:*}
  reason=${r#*:}
  logrow=$(row "$doc/holdingpend.html" "<tt>$event</tt></td>")
  if test "$reason" = 0 ; then
    check "doc/holdingpend.html logs event=$event (refusal.c)" test -n "$logrow"
  else
    check "doc/holdingpend.html logs event=$event reason=$reason (refusal.c)" has_word "$logrow" "$reason"
  fi
done

keys=$(sed -n 's/^#define HOLDINGPEN_COUNTERS_REFUSED //p' "$root/src/include/holdingpen/protocol.h" 2> /dev/null | tr -d '",')
check "src/include/holdingpen/protocol.h defines HOLDINGPEN_COUNTERS_REFUSED" test -n "$keys"
record=" $(grep '^counters=daemon ' "$doc/protocol.html" 2> /dev/null) "
metric=$(row "$doc/holdingpen-status.html" "<tt>holdingpen_claims_refused_total")
for k in $keys ; do
  case $record in
    *" $k="*) pass "doc/protocol.html: the counters= record has $k (protocol.h)" ;;
    *) fail "doc/protocol.html: the counters= record has $k (protocol.h)" ;;
  esac
  check "doc/holdingpen-status.html: holdingpen_claims_refused_total has the reason $k (protocol.h)" has_word "$metric" "$k"
done

finish
