#!/bin/sh
# The manual pages say what the HTML pages say: tools/html2man.pl makes
# them from doc/ (as debian/rules does for the package), and for each of
# them, rendered by man(1):
#   - every section of the HTML page (<h2>) is a section of the manual page;
#   - the options named in the Options section are the same letters;
#   - the numbers named in the Exit codes section are the same;
#   - man --warnings prints nothing (what lintian checks).
# Then the same comparison on an HTML page changed under a manual page
# made before the change (an option added, an exit code dropped) must see
# the difference.
. "$(dirname "$0")/lib.sh"

command -v perl > /dev/null 2>&1 || skip_all "no perl"
command -v man > /dev/null 2>&1 || skip_all "no man (man-db)"
top=$(cd "$HP_TESTDIR/.." && pwd)
test -f "$top/tools/html2man.pl" || skip_all "no tools/html2man.pl"

perl "$top/tools/html2man.pl" "$T/man" > "$T/made" 2> "$T/made.err"
is "$?" 0 "tools/html2man.pl makes the manual pages"
test -s "$T/made.err" && diag "$(cat "$T/made.err")"

# facts KIND FILE: one fact per line, sorted, of an HTML page (KIND html)
# or of a rendered manual page (KIND man):
#   section NAME       each section heading, in capitals
#   option X           each -X in the Options section
#   exit N             each number in the Exit codes section
facts() {
  perl -e '
    my ($kind, $file) = @ARGV;
    open my $h, "<", $file or die "$file: $!\n";
    my $s = do { local $/; <$h> };
    my @sec;            # [ heading, text ]
    if ($kind eq "html") {
      $s =~ s/<!--.*?-->//gs;
      for my $part (split /<h2[^>]*>/, $s) {
        my ($head, $body) = $part =~ /^(.*?)<\/h2>(.*)$/s or next;
        for ($head, $body) { s/<[^>]*>//g; s/&nbsp;/ /g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/&/g; s/\s+/ /g; s/^ //; s/ $// }
        push @sec, [ uc $head, $body ];
      }
    } else {
      my $cur;
      for my $l (split /\n/, $s) {
        if ($l =~ /^(\S.*?)\s*$/ && $l !~ /\(\d\)\s*$/) { $cur = [ $1, "" ]; push @sec, $cur; next }
        $cur->[1] .= " $l" if $cur;
      }
      for (@sec) { $_->[1] =~ s/\s+/ /g; $_->[1] =~ s/\x{2010}/-/g }
      @sec = grep { $_->[0] !~ /^(NAME|DESCRIPTION|SEE ALSO)$/ } @sec;
    }
    my %f;
    for (@sec) {
      my ($head, $body) = @$_;
      $f{"section $head"} = 1;
      if ($head =~ /^OPTIONS/) { $f{"option $1"} = 1 while $body =~ /(?<![\w-])-([A-Za-z0-9])(?![\w-])/g }
      if ($head eq "EXIT CODES") { $f{"exit $1"} = 1 while $body =~ /(?<![\w.-])(\d+)(?![\w.-])/g }
    }
    print "$_\n" for sort keys %f;
  ' "$1" "$2"
}
render() {
  LC_ALL=C.UTF-8 MANWIDTH=200 MAN_KEEP_FORMATTING= man -E UTF-8 -l "$1" 2> /dev/null | col -bx
}

for pair in holdingpen-claim:1 holdingpen-status:1 holdingpen-revoke:8 holdingpen-daemon:8 holdingpend:8 holdingpen-helper:8 pooldir:5 ; do
  page=${pair%:*} sec=${pair#*:}
  name=$page
  test "$page" = pooldir && name=holdingpen-pooldir
  m="$T/man/$name.$sec"
  if ! test -s "$m" ; then
    fail "$name($sec) is made from doc/$page.html"
    continue
  fi
  pass "$name($sec) is made from doc/$page.html"
  render "$m" > "$T/$name.txt"
  facts html "$top/doc/$page.html" > "$T/$name.html-facts"
  facts man "$T/$name.txt" > "$T/$name.man-facts"
  ok "$name($sec): the HTML page names sections, options and exit codes ($(grep -c '^option' "$T/$name.html-facts") options, $(grep -c '^exit' "$T/$name.html-facts") exit codes)" \
    test -s "$T/$name.html-facts"
  if diff "$T/$name.html-facts" "$T/$name.man-facts" > "$T/$name.diff" ; then
    pass "$name($sec): the same sections, options and exit codes as doc/$page.html"
  else
    fail "$name($sec): the same sections, options and exit codes as doc/$page.html"
    diag "$(cat "$T/$name.diff")"
  fi
  w=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$m" 2>&1 > /dev/null)
  is "$w" "" "$name($sec): man --warnings says nothing"
done
like "$(head -n 1 "$T/holdingpen-claim.txt")" '^HOLDINGPEN-CLAIM\(1\)' "the rendered page has its title line"
ok "and its NAME line" grep -q '^ *holdingpen-claim - claims a slot' "$T/holdingpen-claim.txt"

# --- the comparison sees a change -------------------------------------------

sed -e 's|<li> <tt>-q</tt>&nbsp;: quiet|<li> <tt>-Q</tt>\&nbsp;: louder</li> <li> <tt>-q</tt>\&nbsp;: quiet|' \
  -e 's|<li> 4: per-user limit reached|<li> per-user limit reached|' "$top/doc/holdingpen-claim.html" > "$T/changed.html"
ok "the changed page differs from doc/holdingpen-claim.html" test -n "$(cmp "$T/changed.html" "$top/doc/holdingpen-claim.html" 2>&1)"
facts html "$T/changed.html" > "$T/changed.facts"
diff "$T/changed.facts" "$T/holdingpen-claim.man-facts" > "$T/changed.diff"
is "$?" 1 "the manual page made before the change does not match it"
ok "the comparison names the added option" grep -q '^< option Q$' "$T/changed.diff"
ok "and the dropped exit code" grep -q '^> exit 4$' "$T/changed.diff"

done_testing
