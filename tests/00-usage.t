#!/bin/sh
# Wrong usage exits 100, as in s6, with one line on stderr; no daemon needed.
. "$(dirname "$0")/lib.sh"

B=$HP_BUILD

# usage_is DESC COMMAND...: exit code 100 and exactly one line on stderr.
usage_is() {
  _d=$1 ; shift
  timeout -s KILL 10 "$@" < /dev/null > "$T/out" 2> "$T/err"
  is "$?" 100 "$_d: exit 100"
  is "$(wc -l < "$T/err" | tr -d ' ')" 1 "$_d: one line on stderr"
}

usage_is "holdingpen-claim without arguments" "$B/holdingpen-claim"
usage_is "holdingpen-claim with a pool but no prog" "$B/holdingpen-claim" -s "$T/socket" somepool
usage_is "holdingpen-claim with an unknown option" "$B/holdingpen-claim" -Z pool true
usage_is "holdingpen-claim -t not a number" "$B/holdingpen-claim" -t soon pool true
usage_is "holdingpen-status with an unknown option" "$B/holdingpen-status" -Z
usage_is "holdingpen-revoke with an unknown option" "$B/holdingpen-revoke" -Z
usage_is "holdingpen-daemon without a socket path" "$B/holdingpen-daemon"
usage_is "holdingpen-daemon with an unknown option" "$B/holdingpen-daemon" -Z "$T/socket"

# A claim on a socket nobody listens on is a system call failure, not usage.
timeout -s KILL 10 "$B/holdingpen-claim" -s "$T/nosocket" pool true > "$T/out" 2> "$T/err"
is "$?" 111 "holdingpen-claim on a missing socket: exit 111"
like "$(cat "$T/err")" '^holdingpen-claim: ' "and says so as holdingpen-claim"

done_testing
