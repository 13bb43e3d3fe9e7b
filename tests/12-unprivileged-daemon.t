#!/bin/sh
# A daemon that may not signal the holder (holdingpend run as nobody, the
# holder root) still takes the careful kill through all its steps when the
# lease expires: EPERM is not "holder gone", so the lease does not end at
# once; each step is logged as not sent, and the holder is left alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"
hpp_open_tmp

R=$T/rules
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hpp_rule "$R" uid/65534 HOLDINGPEN_CLAIM_REGEX=.*

hp_pool pe 1M 1 expire=1 killdelay=1
hp_start_supervised -u 65534 -g 65534 -G 65534 -i "$R" -p "$T/pools"
hp_wait_up || bail_out "the daemon (as nobody) did not become ready"
is "$(awk '$1 == "Uid:" { print $2 }' "/proc/$(hp_daemon_pid)/status")" 65534 "holdingpend runs as nobody"
F=$T/pe.sig
: > "$F"
# root: the daemon cannot signal it (INT and TERM would only be logged anyway)
hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" pe env --default-signal=INT,TERM sh -c '
  trap "echo INT >> $0" INT
  trap "echo TERM >> $0" TERM
  echo started >> "$0"
  while : ; do sleep 0.1 ; done' "$F"
holder=$HP_BG_PID
ok "a root holder gets the slot" hp_until 5000 eval 'grep -q started "$F"'
ok "the lease expires: log event=expire" hp_until 5000 hp_log_kv_has event=expire pool=pe
texp=$(hp_now_ms)
ok "the lease ends" hp_until 10000 eval 'hp_log_kv_has event=end pool=pe || hp_log_kv_has event=release pool=pe'
tend=$(hp_now_ms)
note "lease ended about $((tend - texp)) ms after the expire line appeared"
cmp_ok "$((tend - texp))" -ge 2500 "not at once: the kill sequence took its course (>= 2.5 s after expire)"
is "$(hp_log_kv event=kill pool=pe | sed 's/.* signal=\([A-Z]*\).*/\1/' | tr '\n' ' ')" "CONT INT TERM KILL " \
  "log: every step of the careful kill was taken (CONT INT TERM KILL)"
is "$(hp_log_kv event=kill pool=pe sent=no error=EPERM | wc -l | tr -d ' ')" 4 \
  "log: each of those steps says the signal could not be sent (sent=no error=EPERM)"
ok "log: the lease ends with event=end" hp_log_kv_has event=end pool=pe
ok "the holder, out of the daemon's reach, is still alive" hp_alive "$holder"
is "$(grep -v started "$F")" "" "and it got no signal"
ok "the slot comes back: ready=1" hp_until 5000 hp_field_is pe ready 1
hp_claim -n pe true
is "$?" 0 "and can be claimed again"
kill -KILL "$holder"

done_testing
