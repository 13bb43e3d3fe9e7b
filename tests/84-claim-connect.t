#!/bin/sh
# A claim with a deadline that finds no broker when it starts (its socket
# missing, or bound by a broker that has gone and refusing connections:
# a restart) connects again until its deadline, as it does when the
# broker goes away while it waits: it is granted once a broker is back,
# gives up with 99 at its deadline if none is, and is never refused with
# 111 meanwhile. A claim that does not wait (-n, -t 0) and a claim with
# no deadline still fail at once with 111.
. "$(dirname "$0")/lib.sh"

hp_pool one 1M 1
# the service starts down: nothing has bound the socket yet
mkdir -p "$T/scan/holdingpen"
touch "$T/scan/holdingpen/down"
hp_start_supervised -p "$T/pools"
hp_until 5000 s6-svok "$HP_SVC" || bail_out "s6-supervise did not start"

# after_start NAME: milliseconds from NAME's start (T0_NAME) to its grant.
after_start() {
  eval "_as_t0=\$T0_$1"
  echo $(($(cat "$T/$1.t") - _as_t0))
}

# --- the socket is missing: a broker comes 1 s later ---
ok "missing: no socket yet" test ! -e "$HP_SOCKET"
T0_a=$(hp_now_ms)
hp_hold a -t 3000 one
ok "missing: the claim keeps trying while there is no socket" hp_stays 1000 hp_alive "$HOLD_a"
s6-svc -u "$HP_SVC"
ok "missing: the broker comes up" hp_wait_up
ok "missing: the claim is granted" hp_until 5000 hp_holds a
if hp_holds a ; then
  cmp_ok "$(after_start a)" -le 3000 "missing: within its deadline ($(after_start a) ms)"
else
  fail "missing: within its deadline"
fi
is "$(cat "$T/a.out")" "" "missing: the claim printed nothing"

# --- the socket is there and refuses: the broker is down for 1 s ---
ok "refused: the broker goes down" hp_svc_down
ok "refused: its socket stays" test -S "$HP_SOCKET"
"$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -n one true 2> "$T/probe.err"
like "$(cat "$T/probe.err")" 'Connection refused' "refused: the socket refuses connections"
T0_b=$(hp_now_ms)
hp_hold b -t 3000 one
ok "refused: the claim keeps trying while the socket refuses" hp_stays 1000 hp_alive "$HOLD_b"
ok "refused: the broker comes back" hp_svc_up
ok "refused: the claim is granted" hp_until 5000 hp_holds b
if hp_holds b ; then
  cmp_ok "$(after_start b)" -le 3000 "refused: within its deadline ($(after_start b) ms)"
else
  fail "refused: within its deadline"
fi
is "$(cat "$T/b.out")" "" "refused: the claim printed nothing"

# --- claims that do not retry, against the refusing socket ---
ok "the broker goes down again" hp_svc_down

# at_once NAME EXPECTED-OUTPUT-ERE CLAIM-OPTIONS...: the claim exits 111 at
# once (under a second), saying it could not connect.
at_once() {
  _ao_name=$1 ; _ao_ere=$2 ; shift 2
  _ao_t0=$(hp_now_ms)
  hp_claim "$@" one true 2> "$T/$_ao_name.err"
  _ao_rc=$?
  _ao_t1=$(hp_now_ms)
  is "$_ao_rc" 111 "$_ao_name: exit 111"
  cmp_ok "$((_ao_t1 - _ao_t0))" -lt 1000 "$_ao_name: at once ($((_ao_t1 - _ao_t0)) ms)"
  like "$(cat "$T/$_ao_name.err")" "$_ao_ere" "$_ao_name: it says why"
}
at_once "-n" '^holdingpen-claim: fatal: unable to connect to holdingpend at .*: Connection refused$' -n
at_once "-t 0" '^holdingpen-claim: fatal: unable to connect to holdingpend at .*: Connection refused$' -t 0
at_once "no deadline" '^holdingpen-claim: fatal: unable to connect to holdingpend at .*: Connection refused$'
rm -f "$HP_SOCKET"
at_once "-n, no socket" '^holdingpen-claim: fatal: unable to connect to holdingpend at .*: No such file or directory$' -n

# --- no broker comes: 99 at the deadline, not before, not long after ---
t0=$(hp_now_ms)
hp_claim -t 1500 one true 2> "$T/late.err"
rc=$?
t1=$(hp_now_ms)
is "$rc" 99 "deadline: no broker comes: exit 99"
cmp_ok "$((t1 - t0))" -ge 1480 "deadline: not before its deadline ($((t1 - t0)) ms)"
cmp_ok "$((t1 - t0))" -le 3000 "deadline: not long after it"
like "$(cat "$T/late.err")" '^holdingpen-claim: fatal: pool one: no free slot before the deadline' "deadline: it says why"

# --- an error that is not "not there yet" is not retried ---
: > "$T/file"
t0=$(hp_now_ms)
"$HP_BUILD/holdingpen-claim" -s "$T/file/socket" -t 3000 one true 2> "$T/other.err"
rc=$?
t1=$(hp_now_ms)
is "$rc" 111 "another error (a path through a file): 111"
cmp_ok "$((t1 - t0))" -lt 1000 "another error: at once ($((t1 - t0)) ms)"

done_testing
