#!/bin/sh
# Reload, by SIGHUP (s6-svc -h) and by holdingpen-revoke -r: a pool added
# gets its slots reserved and serves claims; a pool removed while leased
# keeps the lease until its holder exits, sends its waiters away and
# refuses new claims with 2, then disappears; a size change applies to free slots at once and to held ones
# when their lease ends; a smaller count retires free slots; a bad pool
# directory is refused with a line naming the pool and the file, the old
# configuration keeps working, and holdingpen-revoke -r exits 6.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"

P=$T/pools
hp_pool keep 1M 2
hp_pool gone 1M 1
hp_start_supervised -p "$P"
hp_wait_up || bail_out "the daemon did not become ready"
dpid=$(hp_daemon_pid)
ok "three helpers at start" hp_until 5000 eval 'test "$(hp_helper_count "$dpid")" -eq 3'

# sized NAME POOL: a holder that writes the size of its resource fd, as
# the kernel sees it, to $T/NAME.size, and HOLDINGPEN_SIZE to $T/NAME.hpsize
sized() {
  rm -f "$T/$1.lease" "$T/$1.tmp" "$T/$1.size" "$T/$1.hpsize"
  hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" "$2" sh -c '
    stat -L -c %s "/proc/self/fd/$HOLDINGPEN_FD" > "$0.size"
    echo "$HOLDINGPEN_SIZE" > "$0.hpsize"
    echo "$HOLDINGPEN_LEASE" > "$0.tmp" && mv "$0.tmp" "$0.lease"
    exec sleep 1000' "$T/$1"
  eval "HOLD_$1=\$HP_BG_PID"
}

# --- add a pool (SIGHUP) ---
hp_pool fresh 1M 2
ok "s6-svc -h: event=reload" hpp_hup
unlike "$(hp_log_kv event=reload | tail -n 1)" 'refused' "the reload was applied"
ok "log: event=reload pools=3" hp_log_kv_has event=reload pools=3
is "$(hp_field fresh count)" 2 "status: the new pool fresh, count=2"
ok "its two slots get reserved: ready=2" hp_until 10000 hp_field_is fresh ready 2
ok "two more helpers" hp_until 5000 eval 'test "$(hp_helper_count "$dpid")" -eq 5'
ok "log: helper-ready for fresh" hp_log_kv_has event=helper-ready pool=fresh
hp_claim fresh sh -c 'echo "$HOLDINGPEN_POOL $HOLDINGPEN_SIZE"' > "$T/out"
is "$?" 0 "a claim on fresh: exit 0"
is "$(cat "$T/out")" "fresh 1048576" "with fresh's lease"
is "$(hp_log_kv_count event=start)" 1 "the same daemon all along"

# --- remove a pool with a live lease (holdingpen-revoke -r) ---
hp_hold g gone
ok "a holder on gone" hp_until 5000 hp_holds g
( hp_claim gone true 2> /dev/null ; echo $? > "$T/gw.rc" ) < /dev/null &
gw=$!
ok "a waiter on gone" hp_until 5000 hp_field_is gone waiters 1
rm -rf "$P/gone"
hpp_revoke -r > "$T/out" 2> "$T/err"
is "$?" 0 "holdingpen-revoke -r after removing gone: exit 0"
is "$(cat "$T/out" "$T/err")" "" "silent"
ok "log: event=reload pools=3 (gone stays while leased)" hp_log_kv_has event=reload pools=3
ok "the lease survives" hp_stays 500 hp_alive "$HOLD_g"
ok "the waiter is sent away" hp_until 5000 test -s "$T/gw.rc"
wait "$gw"
is "$(cat "$T/gw.rc")" 2 "the waiter exits 2"
ok "log: event=deny pool=gone reason=removed" hp_log_kv_has event=deny pool=gone reason=removed
is "$(hp_field gone waiters)" 0 "status: gone waiters=0"
is "$(hp_status gone | grep -c "^lease=$(hp_lease g) ")" 1 "status still lists the lease"
is "$(hp_field gone removed)" 1 "status: gone removed=1"
hp_claim gone touch "$T/ran" 2> "$T/err"
is "$?" 2 "a new claim on gone: exit 2"
is "$(hpp_lines "$T/err")" 1 "one line on stderr"
ok "prog was not run" test ! -e "$T/ran"
hp_claim -n gone true 2> /dev/null
is "$?" 2 "with -n: exit 2 too"
kill -TERM "$HOLD_g"
ok "after the holder exits, gone disappears from the status" hp_until 5000 eval '! hp_status | grep -q "^pool=gone "'
hp_status gone > /dev/null 2>&1
is "$?" 2 "status gone: exit 2"
ok "its helper is gone too: four helpers" hp_until 5000 eval 'test "$(hp_helper_count "$dpid")" -eq 4'

# --- change a size ---
sized k1 keep
ok "a holder on keep" hp_until 5000 hp_holds k1
is "$(cat "$T/k1.size")" 1048576 "before the change: the resource has 1048576 bytes"
echo 2M > "$P/keep/size"
ok "s6-svc -h after keep/size became 2M" hpp_hup
is "$(hp_field keep size)" 2097152 "status: keep size=2097152"
ok "the free slot is remade: ready=1" hp_until 10000 hp_field_is keep ready 1
sized k2 keep
ok "a claim on keep after the change" hp_until 5000 hp_holds k2
is "$(cat "$T/k2.size")" 2097152 "its resource has the new size (stat -L on HOLDINGPEN_FD)"
is "$(cat "$T/k2.hpsize")" 2097152 "HOLDINGPEN_SIZE says so too"
ok "the lease taken before the change is untouched" hp_alive "$HOLD_k1"
kill -TERM "$HOLD_k1"
ok "once released, that slot is remade too: ready=1" hp_until 10000 hp_field_is keep ready 1
sized k3 keep
ok "a claim on the slot that had been held" hp_until 5000 hp_holds k3
is "$(cat "$T/k3.size")" 2097152 "it has the new size as well"
kill -TERM "$HOLD_k2" "$HOLD_k3"
ok "keep: ready=2" hp_until 10000 hp_field_is keep ready 2

# --- a smaller count ---
echo 1 > "$P/fresh/count"
ok "s6-svc -h after fresh/count became 1" hpp_hup
ok "status: fresh count=1 ready=1" hp_until 5000 eval 'hp_field_is fresh count 1 && hp_field_is fresh ready 1'
ok "one helper less: three" hp_until 5000 eval 'test "$(hp_helper_count "$dpid")" -eq 3'

# --- a bad pool directory is refused ---
echo banana > "$P/keep/size"
hp_pool extra 1M 1
n=$(hp_log_count 'reload refused')
ok "s6-svc -h with keep/size = banana" hpp_hup
ok "log: event=reload result=refused" hp_log_kv_has event=reload result=refused
ok "log: a line naming the pool and the file" hp_until 2000 eval 'test "$(hp_log_count "reload refused.*pool keep.*size")" -gt "$n"'
note "$(grep 'reload refused' "$T/log" | tail -n 1)"
is "$(hp_field keep size)" 2097152 "status: keep keeps size=2097152"
hp_status extra > /dev/null 2>&1
is "$?" 2 "the pool added with the bad change was not added"
sized k4 keep
ok "keep still serves claims" hp_until 5000 hp_holds k4
is "$(cat "$T/k4.size")" 2097152 "with the old size"
kill -TERM "$HOLD_k4"
hp_claim fresh true
is "$?" 0 "fresh still serves claims"
hpp_revoke -r > "$T/out" 2> "$T/err"
is "$?" 6 "holdingpen-revoke -r: exit 6"
is "$(hpp_lines "$T/err")" 1 "one line on stderr"
like "$(cat "$T/err")" 'refused.*pool keep.*size' "it names the pool and the file"

# --- fixed: the next reload goes through ---
echo 3M > "$P/keep/size"
hpp_revoke -r
is "$?" 0 "keep/size fixed: holdingpen-revoke -r exits 0"
is "$(hp_field keep size)" 3145728 "status: keep size=3145728"
is "$(hp_field extra count)" 1 "and extra is there"
ok "no slot was granted twice (log)" hp_log_no_double_grant
ok "the daemon is still up" hp_alive "$dpid"

done_testing
