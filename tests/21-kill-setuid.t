#!/bin/sh
# The careful kill signals only what the lease's user could signal itself.
# nobody claims a slot of a pool with a short expire, and its program then
# becomes root's: a set-uid root copy of hp-probe-setuid, which makes its
# real and saved uids 0 (setresuid), so that kill(2) by nobody would be
# refused. Before each signal the broker reads the holder's uids again
# through its pidfd: it sends none (no CONT, INT, TERM, KILL), the holder
# lives on past the whole sequence, and the lease ends at once with
# event=kill ... sent=no refused=setuid, then event=end. A holder of
# nobody's that stays nobody's is still killed, step by step.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-kinds.sh"
. "$HP_TESTDIR/lib-policy.sh"
hpp_open_tmp

# a filesystem of our own, not mounted nosuid, for the set-uid copy
hpk_tmpfs "$T/suid" 1m || skip_all "$HPK_WHY"
probe=$(hp_probe hp-probe-setuid) || bail_out "cannot build hp-probe-setuid"
cp "$probe" "$T/suid/setuid-holder" && chown 0:0 "$T/suid/setuid-holder" && chmod 4755 "$T/suid/setuid-holder" \
  || bail_out "cannot install the set-uid copy"
uids=$(hpp_as "$HPP_NOBODY" "$T/suid/setuid-holder" -c 2> /dev/null)
test "x$uids" = "xuids=0 0 0" || skip_all "a set-uid program run by nobody does not become root here (got '$uids')"

hpp_rule "$T/rules" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hpp_rule "$T/rules" uid/65534 HOLDINGPEN_CLAIM_REGEX=.*
hp_pool exp 1M 2 expire=1 killdelay=1
hp_start_supervised -i "$T/rules" -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"

# --- the holder becomes root's ---
F=$T/pub/setuid.report
hp_bg s6-applyuidgid -u 65534 -g 65534 -G "" "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" exp "$T/suid/setuid-holder" "$F"
holder=$HP_BG_PID
ok "the holder got its slot and is root's now" hp_until 5000 eval 'grep -qs "^uids=0 0 0\$" "$F"'
ok "log: its lease was granted to uid 65534" hp_until 2000 hp_log_kv_has event=grant pool=exp uid=65534 "pid=$holder"
lease=$(hp_log_kv event=grant pool=exp "pid=$holder" | sed -n 's/.* lease=\([0-9]*\).*/\1/p' | head -n 1)
t0=$(hp_now_ms)
ok "the lease expires" hp_until 5000 hp_log_kv_has event=expire "lease=$lease"
ok "the lease ends" hp_until 8000 hp_log_kv_has event=end "lease=$lease"
t1=$(hp_now_ms)
note "event=end $((t1 - t0)) ms after the claim's grant was seen"
ok "log: event=kill sent=no refused=setuid, with the holder's real and saved uids" \
  hp_log_kv_has event=kill "lease=$lease" sent=no refused=setuid uid=65534 ruid=0 suid=0
is "$(hp_log_kv_count event=kill "lease=$lease" sent=yes)" 0 "log: no signal was sent to it"
refused=$(grep -n " event=kill .*lease=$lease .*refused=setuid" "$T/log" | head -n 1 | cut -d: -f1)
ended=$(grep -n " event=end .*lease=$lease " "$T/log" | head -n 1 | cut -d: -f1)
cmp_ok "${refused:-0}" -lt "${ended:-0}" "log: the refusal comes before event=end"
# the old sequence would have ended with KILL 3 killdelays after the expiry
ok "the holder is alive past the whole kill sequence" hp_stays 4500 hp_alive "$holder"
is "$(grep -v '^uids=' "$F" | tr '\n' ' ')" "" "it got no CONT, INT, TERM or HUP"
ok "the slot comes back" hp_until 5000 hp_field_is exp ready 2
is "$(hp_field exp held)" 0 "status: nothing held"

# --- a holder that stays nobody's is killed as before ---
G=$T/pub/plain.report
hp_bg s6-applyuidgid -u 65534 -g 65534 -G "" "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" exp \
  env --default-signal=INT,TERM sh -c 'trap "echo INT >> $0" INT ; trap "echo TERM >> $0" TERM ; echo started >> "$0" ; while : ; do sleep 0.1 ; done' "$G"
plain=$HP_BG_PID
ok "a plain holder of nobody's got its slot" hp_until 5000 eval 'grep -qs started "$G"'
ok "it is killed" hp_until 10000 hp_dead "$plain"
lease2=$(hp_log_kv event=grant pool=exp "pid=$plain" | sed -n 's/.* lease=\([0-9]*\).*/\1/p' | head -n 1)
is "$(hp_log_kv event=kill "lease=$lease2" sent=yes | sed 's/.* signal=\([A-Z]*\).*/\1/' | tr '\n' ' ')" "CONT INT TERM KILL " \
  "log: CONT, INT, TERM, KILL sent"
is "$(hp_log_kv_count event=kill "lease=$lease2" refused=setuid)" 0 "no refusal for it"
ok "the setuid holder is still alive" hp_alive "$holder"
ok "no slot was granted twice (log)" hp_log_no_double_grant

done_testing
