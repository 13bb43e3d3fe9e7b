#!/bin/sh
# holdingpend SIGKILLed at many random moments (30 times, 5 to 300 ms
# into a burst of claims and releases): after each restart no slot is in
# two leases (status); no holder ever reads a previous holder's bytes or
# finds its token overwritten; and once the burst is over, exactly one
# reservation per slot exists (memfds counted by inode and st_blocks in
# the whole supervision tree: no slot reserved twice, none leaked), and
# the fd holder keeps what it kept when idle.
# HP_KB_SEED chooses the moments (printed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"

command -v s6-fdholder-list > /dev/null 2>&1 || skip_all "s6-fdholder-list is not installed"
SEED=${HP_KB_SEED:-$(date +%s)}
KILLS=${HP_KB_KILLS:-30}
case $SEED$KILLS in *[!0-9]*) bail_out "HP_KB_SEED and HP_KB_KILLS must be numbers" ;; esac
note "seed $SEED (HP_KB_SEED=$SEED to run it again)"
hp_pool m 1M 3
hpf_fdholder
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER"
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up || bail_out "the daemon did not become ready"
ok "the pool is ready" hp_until 10000 hp_field_is m ready 3
sleep 0.5
idle=$(s6-fdholder-list "$HPF_FDHOLDER" | sort)
is "$(hpf_reserved "$HP_SVSCAN_PID" m)" 3 "idle: three reservations"

: > "$T/loops.pause"
hpf_loop_start l1 m 40
hpf_loop_start l2 m 120
hpf_loop_start l3 m 10

awk -v n="$KILLS" -v seed="$SEED" 'BEGIN { srand(seed) ; for (i = 0; i < n; i++) printf "%.3f\n", (5 + rand() * 295) / 1000 }' > "$T/moments"
kills=0 ; twice=0 ; over=0 ; leaked=0 ; notup=
while read -r wait ; do
  rm -f "$T/loops.pause"
  sleep "$wait"
  pid=$(hp_daemon_pid) || { notup="no daemon at kill $kills" ; break ; }
  hpf_daemon_signal KILL || { notup="cannot kill at $kills" ; break ; }
  kills=$((kills + 1))
  if ! hpf_wait_restart "$pid" ; then notup="not ready after kill $kills" ; break ; fi
  if ! hpf_no_slot_twice > "$T/twice" ; then
    twice=$((twice + 1)) ; diag "after kill $kills: $(cat "$T/twice")"
  fi
  : > "$T/loops.pause"
  # the burst is over once every slot is ready again
  if ! hp_until 10000 hp_field_is m ready 3 ; then notup="slots not ready after kill $kills" ; break ; fi
  r=$(hpf_reserved "$HP_SVSCAN_PID" m)
  if test "$r" -ne 3 ; then over=$((over + 1)) ; diag "after kill $kills: $r reservations" ; hpf_memfds "$HP_SVSCAN_PID" m >&2 ; fi
  if ! hp_until 3000 eval 'test "x$(s6-fdholder-list "$HPF_FDHOLDER" | sort)" = "x$idle"' ; then
    leaked=$((leaked + 1)) ; diag "after kill $kills, the fd holder keeps: $(s6-fdholder-list "$HPF_FDHOLDER" | tr '\n' ' ')"
  fi
done < "$T/moments"
hpf_loops_stop
is "$notup" "" "holdingpend was ready again after each of $kills SIGKILLs"
is "$twice" 0 "after each restart, no slot in two leases"
is "$over" 0 "after each burst, exactly three reservations (memfds with blocks)"
is "$leaked" 0 "after each burst, the fd holder keeps what it kept when idle"
check=$(hpf_rec_check)
note "claims: $(cat "$T"/rec.* | grep -c '^done') ($check)"
like "$check" "^dirty 0 lost 0 " "no holder read another's bytes or lost its token"
ok "every slot is ready again" hp_until 10000 hp_field_is m ready 3
ok "exactly three reservations, one per slot" hp_until 5000 eval 'test "$(hpf_reserved "$HP_SVSCAN_PID" m)" = 3'
hpf_memfds "$HP_SVSCAN_PID" m | while read -r l ; do note "memfd $l" ; done
ok "the fd holder keeps what it kept when idle" hp_until 10000 eval 'test "x$(s6-fdholder-list "$HPF_FDHOLDER" | sort)" = "x$idle"'
ok "no slot was granted twice (log)" hp_log_no_double_grant
done_testing
