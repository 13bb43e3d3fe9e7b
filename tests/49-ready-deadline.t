#!/bin/sh
# A boot that never locks the console out: with -r millisecs, readiness is
# written when every slot is ready or when millisecs have passed since
# start, whichever comes first. Under a real s6-svscan, a file pool larger
# than its filesystem (a private 8 MiB tmpfs) cannot be reserved: readiness
# comes at the deadline (not before, not much after), one log line says
# which pool is short, how many slots and why, a claim on another pool
# works, and the short pool becomes ready by itself once the filesystem is
# enlarged, serving the claim that waited for it. Then, with every slot
# reservable, readiness comes before the deadline.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-kinds.sh"

MB=1048576
DEADLINE=3000
fs=$T/fs
hpk_tmpfs "$fs" 8m || skip_all "$HPK_WHY"

hp_pool mem 1M 2
hp_pool scratch 16M 1 kind=file "dir=$fs"

# --- a pool that cannot be reserved: readiness at the deadline ---
t0=$(hp_now_ms)
hp_start_supervised -r "$DEADLINE" -p "$T/pools"
ok "the service is up" hp_until 5000 hp_supervised "$HP_SVC"
s6-svwait -U -t 15000 "$HP_SVC"
is "$?" 0 "s6-svwait -U returns: readiness came though pool scratch is short"
t1=$(hp_now_ms)
late=$((t1 - t0 - DEADLINE))
note "readiness $((t1 - t0)) ms after the start, $late ms after the deadline"
cmp_ok "$late" -ge 0 "not before the deadline"
cmp_ok "$late" -lt 1500 "not much after it (less than 1.5 s)"
like "$(hp_cmdline "$(hp_daemon_pid)")" "holdingpend .*-r $DEADLINE( |\$)" "holdingpen-daemon passed -r $DEADLINE on to holdingpend"

# at readiness: the short pool is short, the other one ready
is "$(hp_field scratch short)" 1 "status: pool scratch has its slot short"
is "$(hp_field scratch ready)" 0 "and none ready"
is "$(hp_field mem ready)" 2 "pool mem: both slots ready"

ok "log: one event=ready-short line for scratch" test "$(hp_log_kv_count event=ready-short pool=scratch short=1 count=1)" -eq 1
like "$(hp_log_kv event=ready-short pool=scratch)" ' reason=[^ ]+' "it says why"
is "$(hp_log_kv_count event=ready-short pool=mem)" 0 "none for mem, which is not short"
rs=$(grep -n 'event=ready-short' "$T/log" | head -n 1 | cut -d: -f1)
rd=$(grep -nE 'event=ready( |$)' "$T/log" | head -n 1 | cut -d: -f1)
cmp_ok "${rs:-0}" -lt "${rd:-0}" "log: the ready-short line comes before event=ready"
is "$(hp_log_count 'event=ready( |$)')" 1 "log: one event=ready"

# the other pools serve
hp_claim -n mem sh -c 'echo "$HOLDINGPEN_POOL"' > "$T/out"
is "$?" 0 "a claim on mem is granted at once"
is "$(cat "$T/out")" mem "the program ran with its lease"
hp_claim -n scratch true 2> /dev/null
is "$?" 5 "a claim -n on scratch: busy (no slot ready)"

# a claim that waits for the short pool
hp_hold w scratch
ok "a claim on scratch waits" hp_until 5000 hp_field_is scratch waiters 1

# --- space is freed: the short pool becomes ready by itself ---
ok "the tmpfs is enlarged to 40 MiB" mount -o remount,size=40m "$fs"
ok "pool scratch becomes ready by itself, and the waiting claim gets the slot" hp_until 30000 hp_holds w
is "$(hp_field scratch short)" 0 "status: scratch is not short any more"
ok "log: the slot of scratch became ready" hp_log_kv_has event=helper-ready pool=scratch
is "$(hp_log_count 'event=ready( |$)')" 1 "readiness was not notified again"
kill -TERM "$HOLD_w"
ok "released, scratch's slot is ready again" hp_until 10000 hp_field_is scratch ready 1

# --- every slot reservable: readiness before the deadline ---
hp_stop
mv "$T/log" "$T/log.1"
rm -rf "$T/scan"
DEADLINE=8000
t0=$(hp_now_ms)
hp_start_supervised -r "$DEADLINE" -p "$T/pools"
ok "the service is up" hp_until 5000 hp_supervised "$HP_SVC"
s6-svwait -U -t 15000 "$HP_SVC"
is "$?" 0 "s6-svwait -U returns"
t1=$(hp_now_ms)
note "readiness $((t1 - t0)) ms after the start, with every slot reservable"
cmp_ok $((t1 - t0)) -lt 5000 "long before the deadline of $DEADLINE ms: readiness does not wait for it"
is "$(hp_field scratch ready) $(hp_field mem ready)" "1 2" "every slot ready at readiness"
is "$(hp_log_kv_count event=ready-short)" 0 "log: no ready-short line"

# --- holdingpen-scandir -w, the unit's ExecStartPost ---
# It holds the unit's start, and so the display manager, until the broker
# is ready. s6-supervise takes its lock, which s6-svok tests, a moment
# before it writes supervise/status, and s6-svwait run in that moment
# exits 111: the unit was then active at once. That moment is held open
# here: the lock taken (an fcntl lock, as skalibs' fd_lock takes it; perl
# packs struct flock as 64-bit Linux lays it out), no status yet.
sw=$T/scandir-w/holdingpen
mkdir -p "$sw/supervise"
if perl -MConfig -e 'exit($^O eq "linux" && $Config{longsize} == 8 ? 0 : 1)' ; then
  hp_bg perl -MFcntl -e 'open(my $f, ">>", $ARGV[0]) or die "open: $!" ; fcntl($f, F_SETLK, pack("s s x4 q q i x4", F_WRLCK, SEEK_SET, 0, 0, 0)) or die "lock: $!" ; sleep 60' "$sw/supervise/lock"
  fake=$HP_BG_PID
  ok "a supervisor half started: s6-svok answers" hp_until 5000 s6-svok "$sw"
  s6-svwait -U -t 2000 "$sw" > /dev/null 2>&1
  is "$?" 111 "s6-svwait -U exits 111 on it: no status to read"
  { sh "$HP_TESTDIR/../debian/holdingpen-scandir" -w 20000 "$T/scandir-w" ; echo "$?" > "$T/scandir-w.rc" ; } < /dev/null > "$T/scandir-w.out" 2>&1 &
  ok "holdingpen-scandir -w waits on it, 1 s" hp_stays 1000 test ! -e "$T/scandir-w.rc"
  # our own child, not yet waited for: its pid cannot have been reused
  kill -TERM "$fake"
  hp_until 3000 hp_dead "$fake"
  printf '%s\n' '#!/bin/sh' 'echo >&3' 'exec sleep 60' > "$sw/run"
  chmod 755 "$sw/run"
  echo 3 > "$sw/notification-fd"
  hp_bg s6-supervise "$sw" > "$T/supervise.log" 2>&1
  hp_at_exit "s6-svc -dx '$sw'"
  ok "then, with s6-supervise really there, it returns" hp_until 10000 test -s "$T/scandir-w.rc"
  is "$(cat "$T/scandir-w.rc" 2>&1) $(cat "$T/scandir-w.out" 2>&1)" "0 " "exit 0, nothing said"
  is "$(s6-svstat -o up,ready "$sw" 2>&1)" "true true" "and the service is up and ready"
  s6-svc -dx "$sw"
else
  skip "struct flock packed for 64-bit Linux only" 6
fi

done_testing
