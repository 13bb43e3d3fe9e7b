#!/bin/sh
# The documentation keeps up with the programs: tests/doc-check.sh (also run
# by make doc-check) passes on the source tree; its own TAP is shown as a
# subtest. Then the same script on scratch copies of the tree, each with one
# mistake of the kind it is there to catch, must fail and name the mistake.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$HP_TESTDIR/.." && pwd)
DC="$HP_TESTDIR/doc-check.sh"

out=$(sh "$DC" "$SRC" 2>&1)
rc=$?
echo "    # Subtest: doc-check.sh"
printf '%s\n' "$out" | sed 's/^/    /'
if test "$rc" -eq 0 && ! printf '%s\n' "$out" | grep -q '^not ok' ; then
  pass "doc-check.sh passes on the source tree"
else
  fail "doc-check.sh passes on the source tree (exit $rc)"
  diag "$(printf '%s\n' "$out" | grep '^not ok')"
fi
like "$(printf '%s\n' "$out" | tail -n 1)" '^1\.\.[1-9][0-9]*$' "it prints a plan"

# A scratch copy of what doc-check.sh reads.
fresh() {
  rm -rf "$T/tree"
  mkdir -p "$T/tree/package" "$T/tree/src/holdingpen" "$T/tree/src/holdingpend" "$T/tree/src/include/holdingpen"
  cp "$SRC/package/targets.mak" "$T/tree/package/"
  cp "$SRC/src/include/holdingpen/protocol.h" "$T/tree/src/include/holdingpen/"
  cp "$SRC"/src/holdingpen/*.c "$T/tree/src/holdingpen/"
  cp "$SRC"/src/holdingpend/*.c "$T/tree/src/holdingpend/"
  cp -R "$SRC/doc" "$T/tree/doc"
}

# mutant DESC ERE: doc-check.sh fails on the scratch copy, with a "not ok"
# line matching ERE.
mutant() {
  _m_out=$(sh "$DC" "$T/tree" 2>&1)
  _m_rc=$?
  is "$_m_rc" 1 "$1: doc-check.sh exits 1"
  like "$(printf '%s\n' "$_m_out" | grep '^not ok')" "$2" "$1: it says what is wrong"
}

fresh
sh "$DC" "$T/tree" > /dev/null 2>&1
is "$?" 0 "an unchanged copy passes (the mutants below differ only by their mistake)"

fresh
sed 's/<tt>-n\([ <&]\)/<tt>\1/g' < "$SRC/doc/holdingpen-claim.html" > "$T/tree/doc/holdingpen-claim.html"
mutant "an option missing from its page" '^not ok [0-9]+ - doc/holdingpen-claim\.html documents -n '

fresh
sed 's/^\(#define USAGE "holdingpen-status \[ -s socket \]\)/\1 [ -z ]/' < "$SRC/src/holdingpen/holdingpen-status.c" > "$T/tree/src/holdingpen/holdingpen-status.c"
ok "(the mutant has the new option)" grep -q '^#define USAGE ".*\[ -z \]' "$T/tree/src/holdingpen/holdingpen-status.c"
mutant "a new option in a USAGE string, not documented" '^not ok [0-9]+ - doc/holdingpen-status\.html documents -z '

fresh
rm "$T/tree/doc/holdingpen-revoke.html"
mutant "a program's page missing" '^not ok [0-9]+ - doc/holdingpen-revoke\.html exists$'

fresh
sed 's/^BIN_TARGETS := \\$/BIN_TARGETS := \\\nholdingpen-new \\/' < "$SRC/package/targets.mak" > "$T/tree/package/targets.mak"
printf '#define USAGE "holdingpen-new [ -q ]"\n' > "$T/tree/src/holdingpen/holdingpen-new.c"
ok "(the mutant lists holdingpen-new)" grep -qx 'holdingpen-new \\' "$T/tree/package/targets.mak"
mutant "a new program without a page" '^not ok [0-9]+ - doc/holdingpen-new\.html exists$'

fresh
sed 's/href="holdingpend\.html"/href="holdingpen-d.html"/' < "$SRC/doc/index.html" > "$T/tree/doc/index.html"
mutant "the index no longer links to a program's page" '^not ok [0-9]+ - doc/index\.html links to holdingpend\.html$'
mutant "a link to a page that does not exist" '^not ok [0-9]+ - index\.html: link to holdingpen-d\.html: '

fresh
sed 's/<a name="exitcodes">/<a name="exit-codes">/' < "$SRC/doc/holdingpend.html" > "$T/tree/doc/holdingpend.html"
mutant "a link to an anchor that does not exist" '^not ok [0-9]+ - holdingpen-daemon\.html: link to holdingpend\.html#exitcodes: no anchor'

fresh
echo '<html><body><p>nobody links here</p></body></html>' > "$T/tree/doc/orphan.html"
mutant "a page that the index does not link to" '^not ok [0-9]+ - doc/index\.html links to orphan\.html$'

fresh
sed 's/^\(  \[REFUSAL_BUSY\] = .*\)$/\1\n  [REFUSAL_QUOTA] = { .event = "deny", .reason = "quota", .answer = HOLDINGPEN_LIMIT, .counter = REFUSED_LIMIT },/' < "$SRC/src/holdingpend/refusal.c" > "$T/tree/src/holdingpend/refusal.c"
ok "(the mutant has the new refusal)" grep -q '^  \[REFUSAL_QUOTA\] = ' "$T/tree/src/holdingpend/refusal.c"
mutant "a new refusal, not in the log's documentation" '^not ok [0-9]+ - doc/holdingpend\.html logs event=deny reason=quota '

fresh
sed 's/^\(#define HOLDINGPEN_COUNTERS_REFUSED .*\)$/\1, "quota"/' < "$SRC/src/include/holdingpen/protocol.h" > "$T/tree/src/include/holdingpen/protocol.h"
ok "(the mutant has the new counter)" grep -q '^#define HOLDINGPEN_COUNTERS_REFUSED .*, "quota"$' "$T/tree/src/include/holdingpen/protocol.h"
mutant "a new refusal counter, not in the counters= record's documentation" '^not ok [0-9]+ - doc/protocol\.html: the counters= record has quota '
mutant "a new refusal counter, not among the reasons of -m" '^not ok [0-9]+ - doc/holdingpen-status\.html: holdingpen_claims_refused_total has the reason quota '

done_testing
