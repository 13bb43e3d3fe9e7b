#!/bin/sh
# Connections per uid: holdingpen-daemon -C maxperuid (default 16). A uid
# may have at most that many connections at once (root and the daemon's own
# uid are not limited); more are accepted and closed at once, logged
# event=client-error ... reason=toomany once until the condition clears. The
# last connections (a quarter of -c maxconn, at most 8: 6 here) are kept for
# clients with the HOLDINGPEN_ADMIN right: others past that are closed,
# reason=full, logged once. Here -c 24 -C 12: one uid floods, a second one fills the rest, and
# root's claim and status are still answered within a second; a uid with a
# claim right cannot queue more than 12 claims.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hp_setup
hpp_open_tmp

R="$T/rules"
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hpp_rule "$R" uid/65534 HOLDINGPEN_CLAIM_REGEX=p HOLDINGPEN_STATUS=1
hp_pool p 4M 1
hp_pool q 4M 1
hp_start_supervised -c 24 -C 12 -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready (does holdingpen-daemon take -C?)"
pid=$(hp_daemon_pid)
probe=$(hp_probe hp-probe-hostile) || bail_out "cannot build hp-probe-hostile"
# conns: the daemon's connected sockets (each client may cost it more than one fd)
conns() {
  ss -xnpH 2> /dev/null | awk -v p="pid=$pid," '$2 == "ESTAB" && index($0, p)' | wc -l | tr -d ' '
}
command -v ss > /dev/null 2>&1 || skip_all "ss is not installed (iproute2)"
conns0=$(conns)

# answered_within_1s COMMAND...: COMMAND succeeds within a second
answered_within_1s() {
  _a0=$(hp_now_ms)
  "$@" > /dev/null 2>&1 || return 1
  test $(($(hp_now_ms) - _a0)) -le 1000
}
toomany() { hp_log_kv_count event=client-error "uid=$1" reason=toomany ; }
full() { hp_log_kv_count event=client-error "uid=$1" reason=full ; }

# --- one uid floods: 40 idle connections from nobody ---
hp_bg s6-applyuidgid -u 65534 -g 65534 -G "" "$probe" "$HP_SOCKET" hold 40 60 > "$T/flood1"
flood1=$HP_BG_PID
ok "nobody opened its 40 connections" hp_until 5000 test -s "$T/flood1"
ok "the daemon keeps 12 of them" hp_until 3000 eval 'test $(($(conns) - conns0)) -eq 12'
note "daemon connections: $conns0 before, $(conns) with the flood"
ok "log: event=client-error uid=65534 reason=toomany" hp_until 2000 eval 'test "$(toomany 65534)" -ge 1'
is "$(toomany 65534)" 1 "logged once, not once per refused connection"
ok "root's status is answered within a second" answered_within_1s hp_status
ok "root's claim is answered within a second" answered_within_1s hp_claim -n q true

# --- a second uid fills what is left but the admin reserve: 24 - 6 - 12 = 6 ---
hp_bg s6-applyuidgid -u 65533 -g 65533 -G "" "$probe" "$HP_SOCKET" hold 12 60 > "$T/flood2"
flood2=$HP_BG_PID
ok "uid 65533 opened its 12 connections" hp_until 5000 test -s "$T/flood2"
ok "the daemon keeps 6 of them: 18 in all, 6 left for admins" hp_until 3000 eval 'test $(($(conns) - conns0)) -eq 18'
ok "log: event=client-error uid=65533 reason=full" hp_until 2000 eval 'test "$(full 65533)" -ge 1'
is "$(full 65533)" 1 "logged once"
ok "root's status is still answered within a second" answered_within_1s hp_status
ok "root's claim is still answered within a second" answered_within_1s hp_claim -n q true
cmp_ok "$(hpp_status_as "$HPP_NOBODY" > /dev/null 2>&1 ; echo $?)" -ne 0 "a 13th connection of nobody is refused"

kill "$flood1" "$flood2"
wait "$flood1" "$flood2" 2> /dev/null
ok "the flood's connections go" hp_until 3000 eval 'test "$(conns)" -eq "$conns0"'
ok "nobody's status is answered again" answered_within_1s hpp_status_as "$HPP_NOBODY"

# --- a uid with a claim right cannot queue more than 12 claims ---
hp_hold h p
ok "root holds p's only slot" hp_until 5000 hp_holds h
i=0
while test $i -lt 20 ; do
  i=$((i + 1))
  s6-applyuidgid -u 65534 -g 65534 -G "" "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" p true < /dev/null > /dev/null 2>&1 &
  hp_track $!
done
ok "12 of nobody's claims wait" hp_until 5000 hp_field_is p waiters 12
ok "and no more" hp_stays 1000 hp_field_is p waiters 12
ok "root's status is answered within a second meanwhile" answered_within_1s hp_status
is "$(hp_daemon_pid)" "$pid" "the daemon is the same process"
done_testing
