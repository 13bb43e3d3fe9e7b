#!/bin/sh
# Records holdingpend did not make, in root's own fd holder (stored by the
# test, as anything root runs could): a new holdingpend must not believe
# them.
#  b. holdingpen/pidfd/LEASE/KILLWALL/3 of a real lease, whose pidfd is of
#     an innocent process (a step further than the lease's own record),
#     and holdingpen/pidfd/LEASE in 0.2's form, of the same innocent:
#     after a restart and the lease's expiry, the holder gets CONT, INT,
#     TERM once each (then KILL), the innocent no signal at all, and is
#     never stopped.
#  c. holdingpen/lease/... records whose connection's peer is not the
#     pid and uid they name (a socketpair made by the test): one names the
#     innocent's pid, one the right pid but another uid; neither is taken
#     back, their slots are ready, and the innocent gets no signal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"

command -v s6-fdholder-store > /dev/null 2>&1 || skip_all "s6-fdholder-store is not installed"
hp_pool x 1M 3 expire=3 killdelay=1
hpf_fdholder
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER"
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up || bail_out "the daemon did not become ready"
ok "the pool is ready" hp_until 10000 hp_field_is x ready 3
siglog=$(hp_probe hp-probe-siglog) || bail_out "cannot build hp-probe-siglog"
fdput=$(hp_probe hp-probe-fdput) || bail_out "cannot build hp-probe-fdput"

# the innocent: not a client of anything, logs every signal it gets
hp_bg "$siglog" "$T/innocent" 60
innocent=$HP_BG_PID
ok "the innocent runs" hp_until 3000 grep -q '^start' "$T/innocent"
# the holder: ignores INT and TERM, logs them
hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -n x "$siglog" "$T/holder" 60 holder
holder=$HP_BG_PID
ok "the holder holds" hp_until 5000 grep -q '^grant' "$T/holder"
lease=$(awk '$1 == "grant" { print $2 }' "$T/holder")
ok "its records are kept" hp_until 5000 eval 'test "$(hpf_records_of "$lease")" = "lease held pidfd"'

now=$(date +%s)
store() {
  "$@" 2> "$T/store.err"
  _st=$?
  test $_st -eq 0 || diag "store failed: $(cat "$T/store.err")"
  return $_st
}
# b: the innocent's pidfd under the lease's id, a step further; and in 0.2's form
ok "forged pidfd record, step 3" store "$fdput" pidfd "$innocent" s6-fdholder-store "$HPF_FDHOLDER" "holdingpen/pidfd/$lease/$now/3"
ok "forged pidfd record, 0.2's form" store "$fdput" pidfd "$innocent" s6-fdholder-store "$HPF_FDHOLDER" "holdingpen/pidfd/$((lease + 1000))"
# c: lease records for slots 1 and 2 of x, over a socketpair whose peer is the storing process
ok "forged lease record naming the innocent" store "$fdput" pair s6-fdholder-store "$HPF_FDHOLDER" "holdingpen/lease/$((lease + 1000))/x/1/0/0/$innocent/$((now - 1))/$((now + 2))"
ok "forged lease record, right pid, wrong uid" store sh -c 'exec "$1" pair s6-fdholder-store "$2" "holdingpen/lease/$3/x/2/65534/65534/$$/$4/$5"' sh "$fdput" "$HPF_FDHOLDER" $((lease + 1001)) $((now - 1)) $((now + 2))
ok "a pidfd record of the innocent for that lease too" store "$fdput" pidfd "$innocent" s6-fdholder-store "$HPF_FDHOLDER" "holdingpen/pidfd/$((lease + 1001))/0/0"
note "$(s6-fdholder-list "$HPF_FDHOLDER" | grep -v listen)"

pid=$(hp_daemon_pid)
hpf_daemon_signal KILL
hpf_wait_restart "$pid"
is "$?" 0 "a new holdingpend is up"
leases=$(hpf_leases)
note "$leases"
is "$(printf '%s\n' "$leases" | grep -c .)" 1 "one lease taken back"
like "$leases" "^lease=$lease " "the real one"
is "$(hp_field x held)" 1 "the forged leases' slots are not held"
forged="^holdingpen/(lease|pidfd)/($((lease + 1000))|$((lease + 1001)))(/|\$)|^holdingpen/pidfd/$lease/$now/3\$"
ok "the forged records are gone from the fd holder" hp_until 3000 eval '! s6-fdholder-list "$HPF_FDHOLDER" | grep -qE "$forged"'

# the expiry (3 s after the grant), then CONT, INT, TERM, KILL 1 s apart
stopped=0
t0=$(hp_now_ms)
while test $(($(hp_now_ms) - t0)) -lt 8000 && hp_alive "$holder" ; do
  grep -q '^State:.*[Tt] (' "/proc/$innocent/status" 2> /dev/null && stopped=1
  sleep 0.05
done
ok "the holder is killed at last" hp_until 3000 hp_dead "$holder"
is "$(awk '$1 == "sig" { printf "%s ", $2 }' "$T/holder")" "CONT INT TERM " "the holder got CONT, INT, TERM once each, in order"
ok "the innocent is alive" hp_alive "$innocent"
is "$stopped" 0 "the innocent was never seen stopped"
is "$(grep -c '^sig' "$T/innocent")" 0 "the innocent got no signal"
test -s "$T/innocent" && note "innocent: $(tr '\n' ' ' < "$T/innocent")"
done_testing
