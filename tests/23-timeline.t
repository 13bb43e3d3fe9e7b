#!/bin/sh
# The cfengine timeline with small numbers. IfElapsed (ifelapsed=3): a uid
# that claimed at t=0 is refused with 3 ("too soon", saying how long to
# wait) until t=3 s, then granted; another uid is not held back.
# ExpireAfter (expire=2, killdelay=1): a holder that outlives its lease is
# sent CONT, INT, TERM, KILL one second apart, and the slot comes back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hpp_open_tmp

R=$T/rules
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hpp_rule "$R" uid/65534 HOLDINGPEN_CLAIM_REGEX=.*

hp_pool spam 1M 2 ifelapsed=3
hp_pool exp 1M 1 expire=2 killdelay=1
hp_start_supervised -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
is "$(hp_field spam ifelapsed)" 3 "status: pool spam has ifelapsed=3"
is "$(hp_field exp expire)" 2 "status: pool exp has expire=2"

# --- ifelapsed ---
t0=$(hp_now_ms)
hp_claim spam true
is "$?" 0 "t=0: the first claim is granted"
hp_claim spam touch "$T/ran" > "$T/out" 2> "$T/err"
rc=$?
t1=$(hp_now_ms)
is "$rc" 3 "a second claim by the same uid at t=$((t1 - t0)) ms: exit 3"
is "$(hpp_lines "$T/err")" 1 "one line on stderr"
like "$(cat "$T/err")" 'too soon.*wait [1-3] more seconds' "it says how long to wait"
ok "prog was not run" test ! -e "$T/ran"
ok "log: event=deny pool=spam uid=0 reason=toosoon" hp_log_kv_has event=deny pool=spam uid=0 reason=toosoon
hpp_claim_as "$HPP_NOBODY" spam true
is "$?" 0 "another uid (nobody) is not held back by root's claim"

# keep asking; the first grant must come at t >= 3 s, and not much later
hp_until 8000 eval 'hp_claim spam true 2> /dev/null'
rc=$?
t2=$(hp_now_ms)
is "$rc" 0 "the same uid is granted again later"
cmp_ok "$((t2 - t0))" -ge 3000 "not before 3 s (granted at t=$((t2 - t0)) ms)"
cmp_ok "$((t2 - t0))" -le 6000 "not long after 3 s"
hp_claim spam true 2> /dev/null
is "$?" 3 "and right after that grant, too soon again"

# --- expire, the careful kill ---
F=$T/pub/signals
: > "$F"
chmod 666 "$F"
# a background job of a non-interactive shell starts with INT ignored, and a
# shell cannot trap what it was started ignoring: env restores the default
hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" exp env --default-signal=INT,TERM sh -c '
  trap "echo INT >> $0" INT
  trap "echo TERM >> $0" TERM
  echo started >> "$0"
  while : ; do sleep 0.1 ; done' "$F"
holder=$HP_BG_PID
ok "the holder got its slot" hp_until 5000 eval 'grep -q started "$F"'
t0=$(hp_now_ms)
is "$(hp_field exp held)" 1 "status: exp held=1"
ok "the lease expires: log event=expire" hp_until 5000 hp_log_kv_has event=expire pool=exp
ok "the holder is killed" hp_until 10000 hp_dead "$holder"
t1=$(hp_now_ms)
note "holder dead $((t1 - t0)) ms after it got its slot"
cmp_ok "$((t1 - t0))" -ge 4000 "not before expire + 3 killdelays (about 5 s)"
is "$(grep -v started "$F" | tr '\n' ' ')" "INT TERM " "the holder saw INT, then TERM (then KILL)"
is "$(hp_log_kv event=kill pool=exp | sed 's/.* signal=\([A-Z]*\).*/\1/' | tr '\n' ' ')" "CONT INT TERM KILL " \
  "log: event=kill signal=CONT, INT, TERM, KILL in that order"
expline=$(grep -n ' event=expire ' "$T/log" | head -n 1 | cut -d: -f1)
killline=$(grep -n ' event=kill .*pool=exp' "$T/log" | head -n 1 | cut -d: -f1)
cmp_ok "${expline:-0}" -lt "${killline:-0}" "log: event=expire comes before the first event=kill"
ok "log: event=expire names the holder's pid" hp_log_kv_has event=expire pool=exp "pid=$holder"
ok "the slot comes back: status ready=1" hp_until 5000 hp_field_is exp ready 1
is "$(hp_field exp held)" 0 "status: held=0"
hp_claim -n exp true
is "$?" 0 "and it can be claimed again"
ok "no slot was granted twice (log)" hp_log_no_double_grant

done_testing
