#!/bin/sh
# SIGTERM (and SIGINT): the daemon and its helpers are gone within one
# second, even with a lease held; the holder keeps its fd and goes on; the
# service comes back up and ready. The log lines wait for the end of a
# turn of the loop: the last ones, to event=exit, are written before the
# daemon goes.
. "$(dirname "$0")/lib.sh"

hp_pool p 8M 3
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
write=$(hp_probe hp-probe-write) || bail_out "cannot build hp-probe-write"

"$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" p "$write" 30 < /dev/null > "$T/w.out" 2>&1 &
holder=$!
hp_track $holder
ok "a holder holds a slot" hp_until 5000 grep -q written= "$T/w.out"

pid=$(hp_daemon_pid)
helpers=$(hp_helper_pids "$pid")
is "$(echo $helpers | wc -w | tr -d ' ')" 3 "three helpers before the signal"

# s6-svc -d: SIGTERM (then SIGCONT), and no restart
t0=$(hp_now_ms)
s6-svc -d "$HP_SVC"
# "within one second": poll for 1 s plus 250 ms of slack for a loaded machine
ok "SIGTERM: the daemon and its helpers are gone within a second" hp_until 1250 hp_all_dead "$pid" $helpers
note "gone after $(($(hp_now_ms) - t0)) ms"
ok "the daemon is gone" hp_dead "$pid"
left=
for h in $helpers ; do hp_alive "$h" && left="$left $h" ; done
is "$left" "" "no helper is left"
ok "s6 sees the service down" hp_until 2000 eval 'test "$(s6-svstat -o up "$HP_SVC")" = false'
ok "the holder was not killed and still runs" hp_alive "$holder"
# a stop is normal for the helpers too: they see their socket close and exit 0, quietly
unlike "$(cat "$T/log")" 'holdingpen-helper: fatal' "no helper logged a fatal error on the stop"
is "$(grep 'holdingpend: info: event=' "$T/log" | tail -n 1 | sed 's/^.*event=//')" exit "the daemon's last line is event=exit"
ok "the holder's grant is in the log before it" hp_log_kv_has event=grant pool=p

# back up: binds the socket again and becomes ready again
s6-svc -u "$HP_SVC"
ok "the service comes back up and ready" hp_wait_up
pid2=$(hp_daemon_pid)
isnt "$pid2" "$pid" "as a new process"
is "$(hp_field p ready)" 3 "with every slot ready"
hp_claim -n p true
is "$?" 0 "and serves claims"

# SIGINT: same promptness (s6 restarts the service; the old processes must go)
helpers2=$(hp_helper_pids "$pid2")
is "$(echo $helpers2 | wc -w | tr -d ' ')" 3 "three helpers"
s6-svc -i "$HP_SVC"
ok "SIGINT: the daemon and its helpers are gone within a second" hp_until 1250 hp_all_dead "$pid2" $helpers2
is "$(hp_log_kv_count event=exit)" 2 "each daemon wrote event=exit"

kill -TERM $holder 2>/dev/null

# Above, holdingpend also sends SIGTERM, which may reach a helper before the
# end of file does. Alone, with only its socket closing, a helper must see
# that its master is gone and exit 0 without a word.
eof=$(hp_probe hp-probe-eof) || bail_out "cannot build hp-probe-eof"
out=$("$eof" "$HP_BUILD/holdingpen-helper" memfd 1M)
like "$out" '^exit=0$' "a helper whose socket closes exits 0"
like "$out" 'stderr=quiet' "and logs nothing"
done_testing
