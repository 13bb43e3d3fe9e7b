#!/bin/sh
# 20 restarts of the broker (SIGKILL and s6-svc -r, alternating) under a
# load of claimants, each of which writes a token of its own into its
# slot, checks the slot was all zeros when it got it and still holds its
# token when it leaves: no slot is ever in two leases, no holder reads
# another's bytes, and afterwards Shmem, the daemon's fds and the number
# of helpers are back where they were.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-keep.sh"

MB=1048576
hp_pool m 8M 4
hpf_fdholder
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER"
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up || bail_out "the daemon did not become ready"
sleep 0.5
shmem0=$(hp_shmem)
pid=$(hp_daemon_pid)
fds0=$(hp_fd_count "$pid")
helpers0=$(hp_helper_count "$pid")

# a claimant: zeros when it gets the slot, its token when it leaves
cat > "$T/claimant" <<'EOS'
#!/bin/sh
f=/proc/self/fd/$HOLDINGPEN_FD
tok="token-$$-$HOLDINGPEN_LEASE"
if test -n "$(head -c 64 "$f" | tr -d '\000')" ; then echo "dirty $HOLDINGPEN_LEASE" ; exit 1 ; fi
printf '%s' "$tok" | dd of="$f" conv=notrunc status=none || { echo "cannot write" ; exit 1 ; }
sleep 0.$(( $$ % 3 + 1 ))
got=$(head -c ${#tok} "$f")
test "x$got" = "x$tok" || { echo "overwritten $HOLDINGPEN_LEASE: $got" ; exit 1 ; }
echo ok
EOS
chmod 755 "$T/claimant"

worker() {
  while ! test -e "$T/stop" ; do
    "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -t 20000 m "$T/claimant" >> "$T/w$1.out" 2>> "$T/w$1.err"
    echo "rc=$?" >> "$T/w$1.rc"
  done
}
for w in 1 2 3 4 5 6 ; do
  worker "$w" &
  hp_track $!
done

# Shmem all along: were held slots reserved again by a new broker, it would rise by them
( while : ; do hp_shmem ; sleep 0.02 ; done ) > "$T/shmem" &
sampler=$!
hp_track "$sampler"
bad=0
for i in $(seq 1 20) ; do
  sleep 0.4
  pid=$(hp_daemon_pid) || { bad=$((bad + 1)) ; continue ; }
  if test $((i % 2)) -eq 1 ; then kill -KILL "$pid" ; else s6-svc -r "$HP_SVC" ; fi
  hpf_wait_restart "$pid" || bad=$((bad + 1))
  # at any moment, a slot is in at most one lease
  dup=$(hp_status | sed -n 's/^lease=.* slot=\([0-9]*\) .*/\1/p' | sort | uniq -d)
  test -z "$dup" || { diag "restart $i: slot $dup in two leases" ; bad=$((bad + 1)) ; }
done
is "$bad" 0 "20 restarts, each followed by a ready broker, and no slot ever in two leases"
kill "$sampler" ; wait "$sampler" 2> /dev/null
peak=$(sort -n "$T/shmem" | tail -n 1)
note "Shmem: $shmem0 with 4 slots ready, at most $peak during the restarts"
cmp_ok $((peak - shmem0)) -le $((8 * MB + $(hp_shmem_slack))) "Shmem never rose by more than one slot: nothing held was reserved again"
touch "$T/stop"
ok "the claimants stop" hp_until 30000 eval 'test "$(cat "$T"/w*.rc | wc -l)" -gt 0 && ! pgrep -f "$T/claimant" > /dev/null'
sleep 1
total=$(cat "$T"/w*.out | grep -c '^ok$')
dirty=$(cat "$T"/w*.out | grep -c '^dirty')
over=$(cat "$T"/w*.out | grep -c '^overwritten')
note "claims that ran to the end: $total; dirty: $dirty; overwritten: $over"
cmp_ok "$total" -ge 20 "claimants got slots all along"
is "$dirty" 0 "no holder ever got a slot with a previous holder's bytes"
is "$over" 0 "no holder's token was ever overwritten by another"
ok "every slot is ready again" hp_until 10000 hp_field_is m ready 4
pid=$(hp_daemon_pid)
ok "the daemon's fds are back to their count" hp_until 5000 eval 'test "$(hp_fd_count "$pid")" -eq "$fds0"'
is "$(hp_helper_count "$pid")" "$helpers0" "as many helpers as at the start"
# a slot left behind would be 8M; the machine's other users move Shmem by less than half that
ok "Shmem is back to its level (4 slots of 8M)" hp_until 5000 eval 'test $(( $(hp_shmem) - shmem0 )) -lt $((4 * MB))'
note "Shmem: $shmem0 at the start, $(hp_shmem) at the end"
done_testing
