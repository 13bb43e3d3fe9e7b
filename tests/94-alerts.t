#!/bin/sh
# The alerting rules of examples/prometheus: promtool accepts them, and
# their unit test (holdingpen-alerts.test.yml, run by promtool test rules)
# passes: each alert fires on what it is about, after its "for", and not
# on a healthy pool. Every alert has a case where it fires; every
# holdingpen_* series they read is one that holdingpen-status -m writes
# (doc/holdingpen-status.html). And the unit test fails on rules that
# lost an alert, or whose threshold changed.
. "$(dirname "$0")/lib.sh"

command -v promtool > /dev/null 2>&1 || skip_all "no promtool (Debian package prometheus)"
ex=$(cd "$HP_TESTDIR/../examples/prometheus" 2> /dev/null && pwd) || skip_all "no examples/prometheus"
rules=holdingpen-alerts.yml
utest=holdingpen-alerts.test.yml

promtool check rules "$ex/$rules" > "$T/check.out" 2>&1
is "$?" 0 "promtool check rules $rules"
note "$(cat "$T/check.out")"
(cd "$ex" && promtool test rules "$utest") > "$T/test.out" 2>&1
rc=$?
is "$rc" 0 "promtool test rules $utest"
test "$rc" -eq 0 || diag "$(cat "$T/test.out")"

alerts=$(sed -n 's/^ *- alert: *//p' "$ex/$rules")
is "$(printf '%s\n' "$alerts" | grep -c .)" 6 "six alerts: $(echo $alerts)"
for a in $alerts ; do
  # a case with exp_alerts that is not the empty list
  ok "$a has a case where it fires" awk -v a="$a" '
    /alertname:/ { cur = $0 ; sub(/.*alertname: */, "", cur) ; sub(/[ ,}].*/, "", cur) ; if (/exp_alerts: *\[\]/) next ; want = (cur == a) ; next }
    want && /exp_labels:/ { found = 1 }
    END { exit !found }' "$ex/$utest"
done
for m in $(grep -o 'holdingpen_[a-z_]*' "$ex/$rules" | sort -u) ; do
  ok "$m is a series of holdingpen-status -m" grep -q "$m" "$HP_TESTDIR/../doc/holdingpen-status.html"
done

# the unit test sees a change of the rules
cp "$ex/$utest" "$T/"
awk '/- alert: HoldingpenSlotFailed/ { skip = 1 } /- alert: HoldingpenClaimsWaiting/ { skip = 0 } !skip' "$ex/$rules" > "$T/$rules"
(cd "$T" && promtool test rules "$utest") > "$T/lost.out" 2>&1
isnt "$?" 0 "the unit test fails on rules without HoldingpenSlotFailed"
sed 's/expr: holdingpen_waiters > 0/expr: holdingpen_waiters > 5/' "$ex/$rules" > "$T/$rules"
(cd "$T" && promtool test rules "$utest") > "$T/changed.out" 2>&1
isnt "$?" 0 "and on rules where claims must be more than 5 to count as waiting"

done_testing
