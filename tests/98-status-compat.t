#!/bin/sh
# The status protocol across versions (doc/protocol.html, "Compatibility").
# A status client written from 0.1's page, which knows the records pool=,
# lease= and waiter= and stops on any other, asks with the plain 'S'
# request and gets exactly those: no counters= record, whose arrival in
# every answer broke such clients. holdingpen-status -k and -m ask for the
# counters and get them; a bit no broker knows yet is ignored. Against a
# broker 0.2 or 0.1 (a probe that answers as they did: 100 to any flag),
# -k and -m ask again with none and show what that broker has; the table
# asks nothing.
. "$(dirname "$0")/lib.sh"

old=$(hp_probe hp-probe-status01) || bail_out "cannot build hp-probe-status01"

hp_pool alpha 4k 2
hp_pool beta 4k 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
hp_hold h1 alpha
ok "a holder on alpha" hp_until 5000 hp_holds h1
hp_hold hb beta
ok "a holder on beta" hp_until 5000 hp_holds hb
hp_hold wb -t 30000 beta
ok "a waiter on beta" hp_until 5000 hp_field_is beta waiters 1

# --- a client of 0.1 ---
timeout -s KILL 20 "$old" client "$HP_SOCKET" > "$T/o01" 2> "$T/e01"
is "$?" 0 "a status client written from 0.1's page: exit 0, no record it does not know"
is "$(cat "$T/e01")" "" "and nothing on stderr"
is "$(cut -d= -f1 "$T/o01" | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')" "lease:2 pool:2 waiter:1 " "it saw 2 pool, 2 lease and 1 waiter records, nothing else"
is "$(grep -c '^counters' "$T/o01")" 0 "no counters record"

# a bit this broker does not know asks for records it does not have: ignored
timeout -s KILL 20 "$old" client "$HP_SOCKET" 128 > "$T/o80" 2> "$T/e80"
is "$?" 0 "flags 0x80, a bit no broker knows yet: answered, exit 0"
is "$(cat "$T/o80")" "$(cat "$T/o01")" "with the same records as flags 0"
timeout -s KILL 20 "$old" client "$HP_SOCKET" 129 > /dev/null 2> "$T/e81"
is "$?" 1 "flags 0x81: the counters record comes, and a client of 0.1 stops on it"
like "$(cat "$T/e81")" "unknown record: counters=daemon" "as it says"

# the same request through libholdingpen's holdingpen_status: the table
timeout -s KILL 20 "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" > "$T/table"
is "$?" 0 "holdingpen-status (table): exit 0"
like "$(cat "$T/table")" "WAITER" "the table has its three blocks"

# --- clients that ask ---
hp_status > "$T/k"
is "$?" 0 "holdingpen-status -k: exit 0"
is "$(grep -c '^counters=daemon ' "$T/k")" 1 "-k asks for the counters record and gets it"
is "$(tail -n 1 "$T/k" | cut -d' ' -f1)" counters=daemon "last"
is "$(grep -c '^pool=' "$T/k") $(grep -c '^lease=' "$T/k") $(grep -c '^waiter=' "$T/k")" "2 2 1" "and the records of 0.1 before it"
hp_status beta > "$T/kb"
is "$(grep -c '^counters=daemon ' "$T/kb")" 1 "-k with a pool named: the counters record too"
timeout -s KILL 20 "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" -m > "$T/m"
is "$?" 0 "holdingpen-status -m: exit 0"
like "$(cat "$T/m")" "holdingpen_claims_granted_total [1-9]" "-m has the counters' families"

# --- brokers 0.2 and 0.1 ---
for v in 0.2 0.1 ; do
  s="$T/old$v.sock"
  "$old" server "$s" "$v" > "$T/req$v" 2> "$T/srv$v.err" < /dev/null &
  spid=$!
  hp_track "$spid"
  ok "a broker $v listens" hp_until 5000 test -S "$s"
  timeout -s KILL 20 "$HP_BUILD/holdingpen-status" -s "$s" -k > "$T/k$v" 2> "$T/ke$v"
  is "$?" 0 "-k against a broker $v: exit 0"
  is "$(cat "$T/ke$v")" "" "nothing on stderr"
  is "$(grep -c '^pool=old ' "$T/k$v")" 1 "its pool record"
  is "$(tr '\n' ' ' < "$T/req$v")" "request flags=1 request flags=0 " "asked for the counters, was refused, asked again for the plain records"
  if test "$v" = 0.2 ; then
    is "$(grep -c '^counters=daemon ' "$T/k$v")" 1 "0.2 sends its counters record with the plain records"
  else
    is "$(grep -c '^counters=' "$T/k$v")" 0 "0.1 has none"
  fi
  : > "$T/req$v"
  timeout -s KILL 20 "$HP_BUILD/holdingpen-status" -s "$s" -m > "$T/m$v" 2> "$T/me$v"
  is "$?" 0 "-m against a broker $v: exit 0"
  like "$(cat "$T/m$v")" 'holdingpen_slots_configured\{pool="old"\} 1' "its pool's gauges"
  if test "$v" = 0.2 ; then
    like "$(cat "$T/m$v")" "holdingpen_claims_granted_total 7" "and its counters"
  else
    unlike "$(cat "$T/m$v")" "holdingpen_claims_granted_total" "no counter made up"
  fi
  : > "$T/req$v"
  timeout -s KILL 20 "$HP_BUILD/holdingpen-status" -s "$s" > "$T/t$v"
  is "$?" 0 "the table against a broker $v: exit 0"
  is "$(cat "$T/req$v")" "request flags=0" "asked nothing more: one request"
  kill -TERM "$spid"
  wait "$spid" 2>/dev/null
done

done_testing
