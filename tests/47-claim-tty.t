#!/bin/sh
# holdingpen-claim says it is waiting: when its stderr is a terminal and it
# has waited one second for a slot, it prints one line naming the pool (and
# how long it may still wait), then nothing more once granted. Not when the
# claim is granted at once or within the second, not with -q, not when stderr
# is a file. The terminal is a real pseudo-terminal, made by script(1).
. "$(dirname "$0")/lib.sh"

command -v script > /dev/null 2>&1 || skip_all "script (util-linux) is not installed"

hp_pool busy 1M 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

# tty_claim NAME [CLAIM OPTIONS] POOL: holdingpen-claim on a pseudo-terminal
# in the background (stdin, stdout and stderr are the terminal), running
# "echo granted" once granted. What the terminal shows goes to $T/NAME.tty,
# without the carriage returns; its pid is TTY_PID.
tty_claim() {
  _tc_name=$1 ; shift
  _tc_cmd="exec timeout -s KILL 60 $(hp__quote "$HP_BUILD/holdingpen-claim") -s $(hp__quote "$HP_SOCKET")"
  for _tc_a in "$@" ; do _tc_cmd="$_tc_cmd $(hp__quote "$_tc_a")" ; done
  _tc_cmd="$_tc_cmd echo granted"
  script -qefc "$_tc_cmd" /dev/null < /dev/null > "$T/$_tc_name.raw" 2>&1 &
  TTY_PID=$!
  hp_track "$TTY_PID"
}

# tty_text NAME: what the terminal of the last tty_claim, NAME, showed,
# once it is over (waited for here: a command substitution could not).
tty_text() {
  wait "$TTY_PID" 2> /dev/null
  TTY_OUT=$(tr -d '\r' < "$T/$1.raw")
}

# hold_busy: a holder takes the only slot of pool busy.
hold_busy() {
  hp_hold h busy
  hp_until 5000 hp_holds h || bail_out "the holder did not get the slot"
}

release_busy() {
  kill -TERM "$HOLD_h"
  hp_until 5000 hp_dead "$HOLD_h"
}

# --- granted at once: nothing is said ---
tty_claim free busy
tty_text free ; out=$TTY_OUT
is "$out" "granted" "a free slot: the terminal shows the program's output only"

# --- busy for 2.5 s: one line after a second, then the program ---
hold_busy
t0=$(hp_now_ms)
tty_claim wait busy
ok "the claim waits" hp_until 5000 hp_field_is busy waiters 1
ok "after one second and a half, the terminal shows the line" hp_until 1500 grep -q 'waiting' "$T/wait.raw"
note "the line came $(($(hp_now_ms) - t0)) ms after the claim started"
ok "and nothing more while it keeps waiting" hp_stays 1000 test "$(grep -c . "$T/wait.raw")" -eq 1
release_busy
tty_text wait ; out=$TTY_OUT
is "$(printf '%s\n' "$out" | sed -n 1p)" "holdingpen-claim: info: waiting for a free slot of pool busy (no deadline)" "the line names the pool, and says there is no deadline"
is "$(printf '%s\n' "$out" | sed -n 2p)" "granted" "once granted, the program runs"
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 2 "and nothing else was printed"

# --- with a deadline, the line says it ---
hold_busy
tty_claim deadline -t 5000 busy
ok "a claim with -t 5000 waits" hp_until 5000 hp_field_is busy waiters 1
ok "the line comes" hp_until 2500 grep -q 'waiting' "$T/deadline.raw"
release_busy
tty_text deadline ; out=$TTY_OUT
is "$(printf '%s\n' "$out" | sed -n 1p)" "holdingpen-claim: info: waiting for a free slot of pool busy (gives up in 4 seconds)" "the line says when the claim gives up"
is "$(printf '%s\n' "$out" | sed -n 2p)" "granted" "then the program runs"

# --- busy for less than a second: nothing is said ---
hold_busy
tty_claim short busy
ok "a claim waits" hp_until 5000 hp_field_is busy waiters 1
release_busy
tty_text short ; out=$TTY_OUT
is "$out" "granted" "granted within the second: no line"

# --- -q: nothing is said ---
hold_busy
tty_claim quiet -q busy
ok "a claim with -q waits" hp_until 5000 hp_field_is busy waiters 1
sleep 2
release_busy
tty_text quiet ; out=$TTY_OUT
is "$out" "granted" "-q, busy for two seconds: no line"

# --- stderr is not a terminal: nothing is said ---
hold_busy
hp_claim busy echo granted > "$T/notty.out" 2> "$T/notty.err" &
notty=$!
hp_track "$notty"
ok "a claim with stderr on a file waits" hp_until 5000 hp_field_is busy waiters 1
sleep 2
release_busy
wait "$notty"
is "$?" 0 "it is granted"
is "$(cat "$T/notty.out")" "granted" "the program ran"
is "$(wc -c < "$T/notty.err" | tr -d ' ')" 0 "stderr is a file: nothing was written to it"

# --- the line is not an error: a refusal after it still says why ---
hold_busy
tty_claim late -t 1500 busy
tty_text late ; out=$TTY_OUT
like "$(printf '%s\n' "$out" | sed -n 1p)" '^holdingpen-claim: info: waiting for a free slot of pool busy \(gives up in 1 second\)$' "-t 1500 on a busy pool: the line"
like "$(printf '%s\n' "$out" | sed -n 2p)" '^holdingpen-claim: fatal: pool busy: ' "then the refusal at the deadline"
release_busy

done_testing
