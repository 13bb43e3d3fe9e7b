#!/bin/sh
# Under a real s6-svscan with a notification-fd, s6-svwait -U returns only
# once every slot of every pool is reserved: at that moment the status shows
# every slot ready, the helpers are running, and the machine's Shmem has
# grown by at least count x size.
. "$(dirname "$0")/lib.sh"

MB=1048576
hp_pool big 16M 4
hp_pool small 8M 2
want=$((4 * 16 * MB + 2 * 8 * MB))

slack=$(hp_shmem_slack)
shmem0=$(hp_shmem)
t0=$(hp_now_ms)
hp_start_supervised -p "$T/pools"
ok "s6-svwait -U returns (service up and ready)" hp_wait_up
shmem1=$(hp_shmem)
# nothing polled in between: these are the values at the moment of readiness
big_ready=$(hp_field big ready)
small_ready=$(hp_field small ready)
note "readiness after $(($(hp_now_ms) - t0)) ms; Shmem grew by $(((shmem1 - shmem0) / 1024)) kB, pools hold $((want / 1024)) kB"
# Shmem is the whole machine's: another process freeing shared memory at the
# same moment hides part of the growth. Then measure again from a fresh start
# (twice at most): a daemon that does not reserve fails every round.
round=1
while test $((shmem1 - shmem0)) -lt $((want - slack)) && test $round -lt 3 ; do
  round=$((round + 1))
  hp_svc_down
  shmem0=$(hp_shmem)
  hp_svc_up
  shmem1=$(hp_shmem)
  big_ready=$(hp_field big ready)
  small_ready=$(hp_field small ready)
  note "round $round: Shmem grew by $(((shmem1 - shmem0) / 1024)) kB"
done
cmp_ok $((shmem1 - shmem0)) -ge $((want - slack)) "Shmem grew by at least count x size of every pool by readiness (less $((slack / 1024)) kB of per-CPU counter drift)"

is "$(cat "$HP_SVC/notification-fd")" 1 "the service directory has a notification-fd"
pid=$(hp_daemon_pid)
like "$pid" '^[0-9]+$' "s6-svstat -p gives the daemon's pid"
like "$(hp_cmdline "$pid")" 'holdingpend' "the service's process is holdingpend (holdingpen-daemon exec'd into it)"
is "$big_ready" 4 "pool big: 4 slots ready at readiness"
is "$small_ready" 2 "pool small: 2 slots ready at readiness"
is "$(hp_field big preparing)" 0 "pool big: none preparing"
is "$(hp_field big held)" 0 "pool big: none held"
is "$(hp_field big size)" $((16 * MB)) "pool big: size in bytes"
is "$(hp_field big count)" 4 "pool big: count"
is "$(hp_field big kind)" memfd "pool big: kind"
is "$(hp_helper_count "$pid")" 6 "one helper process per slot (6)"

# the log of the last start (there is more than one after a second round)
awk '/ event=start( |$)/ { n = 0 } { l[++n] = $0 } END { for (i = 1; i <= n; i++) print l[i] }' "$T/log" > "$T/lastlog"
lastcount() {
  grep -cE -- "$1" "$T/lastlog"
}
is "$(lastcount '^holdingpend: info: event=start( |$)')" 1 "log: event=start"
is "$(lastcount '^holdingpend: info: event=ready( |$)')" 1 "log: event=ready, once"
is "$(lastcount 'event=helper-ready .*pool=big( |$)')" 4 "log: 4 helper-ready lines for pool big"
is "$(lastcount 'event=helper-ready .*pool=small( |$)')" 2 "log: 2 helper-ready lines for pool small"
# readiness is announced after the last slot: no helper-ready after event=ready
last_hr=$(grep -nE 'event=helper-ready' "$T/lastlog" | tail -n 1 | cut -d: -f1)
first_ready=$(grep -nE 'event=ready( |$)' "$T/lastlog" | head -n 1 | cut -d: -f1)
cmp_ok "${last_hr:-0}" -lt "${first_ready:-0}" "log: event=ready comes after the last helper-ready"

hp_stop
ok "the supervision tree is gone after hp_stop" hp_dead "$pid"

# Warnings follow -v as event lines do: an fd holder that is not there
# makes holdingpend warn at start and as it tries again; at -v 0 it says
# nothing at all, warnings included, and still serves.
verbosity_run() {
  : > "$T/log"
  hp_start_supervised -v "$1" -p "$T/pools" -f "$T/no-fdholder"
  hp_wait_up || bail_out "the daemon did not become ready at -v $1"
  hp_claim big true
  is "$?" 0 "-v $1: a claim is granted"
  sleep 1
  hp_stop
}
verbosity_run 1
like "$(cat "$T/log")" 'holdingpend: warning: unable to connect to the fd holder' "-v 1: the missing fd holder is warned about"
verbosity_run 0
is "$(cat "$T/log")" "" "-v 0: nothing on stderr, no event line and no warning"

done_testing
