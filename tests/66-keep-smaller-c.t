#!/bin/sh
# A restart with a smaller -c than there are live leases (three leases
# under -c 8, SIGKILL, the run script now says -c 2): the leases that
# cannot be taken back must not make their slots' resources ready for
# someone else while their holders hold them (root's next claim never
# gets a memfd with a holder's inode, nor its bytes, and each holder's
# token is still in its slot); the administrator can still look
# (holdingpen-status answers). Then -c 8 -C 2: two leases of nobody taken
# back count toward -C, so nobody's third connection is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"
. "$(dirname "$0")/lib-policy.sh"

hpp_open_tmp
hp_pool m 1M 4
hpp_rule "$T/rules" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hpp_rule "$T/rules" uid/65534 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1
hpf_fdholder
hp_start_supervised -c 8 -i "$T/rules" -p "$T/pools" -f "$HPF_FDHOLDER"
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up || bail_out "the daemon did not become ready"
ok "the pool is ready" hp_until 10000 hp_field_is m ready 4
siglog=$(hp_probe hp-probe-siglog) || bail_out "cannot build hp-probe-siglog"

# set_opt FROM TO: the run script's options, changed
set_opt() {
  sed "s/$1/$2/" "$HP_SVC/run" > "$HP_SVC/run.new" && chmod 755 "$HP_SVC/run.new" && mv -f "$HP_SVC/run.new" "$HP_SVC/run"
}

holders=
for n in a b c ; do
  hp_bg "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -n m "$siglog" "$T/pub/$n" 60 holder
  holders="$holders $HP_BG_PID"
  eval "pid_$n=\$HP_BG_PID"
done
ok "three holders" hp_until 5000 eval 'grep -q "^grant" "$T/pub/a" && grep -q "^grant" "$T/pub/b" && grep -q "^grant" "$T/pub/c"'
ok "their records are kept" hp_until 5000 hpf_all_kept
inodes=$(cat "$T/pub/a" "$T/pub/b" "$T/pub/c" | awk '$1 == "grant" { print $4 }' | tr '\n' ' ')
note "the holders' inodes: $inodes"

# token_there PID: the holder's slot still starts with its token
token_there() {
  _tt_fd=$(tr '\0' '\n' < "/proc/$1/environ" | sed -n 's/^HOLDINGPEN_FD=//p')
  head -c 64 "/proc/$1/fd/$_tt_fd" 2> /dev/null | grep -aq "^siglog lease=[0-9]* pid=$1;"
}

set_opt "'-c' '8'" "'-c' '2'"
grep -q "'-c' '2'" "$HP_SVC/run" || bail_out "cannot change -c in the run script"
pid=$(hp_daemon_pid)
hpf_daemon_signal KILL
hpf_wait_restart "$pid"
is "$?" 0 "a new holdingpend, with -c 2, is up"
note "$(grep 'event=restore' "$T/log" | tail -n 1)"
st=$(timeout -s KILL 3 "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" -k 2>&1)
is "$?" 0 "the administrator gets a status within 3 s"
note "$(printf '%s\n' "$st" | grep '^lease=')"

i=0
while test "$i" -lt 4 ; do
  i=$((i + 1))
  out=$(timeout -s KILL 5 "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -n m sh -c 'echo "ino=$(stat -L -c %i /proc/self/fd/$HOLDINGPEN_FD)" ; exec "$1"' sh "$(hp_probe hp-probe-read)" 2>&1)
  isnt "$?" 137 "claim $i is answered within 5 s"
  note "claim $i: $(printf '%s' "$out" | tr '\n' ' ')"
  ino=$(printf '%s\n' "$out" | sed -n 's/^ino=//p')
  if test -z "$ino" ; then pass "claim $i does not get a live holder's memfd (it got none)"
  else
    case " $inodes " in
      *" $ino "*) fail "claim $i does not get a live holder's memfd (inode $ino)" ;;
      *) pass "claim $i does not get a live holder's memfd" ;;
    esac
  fi
  unlike "$out" "nonzero=[1-9]" "claim $i reads no holder's bytes"
done
for n in a b c ; do
  eval "p=\$pid_$n"
  ok "$n's token is still in its slot" token_there "$p"
done
for p in $holders ; do kill -KILL "$p" ; done
hp_until 5000 hp_all_dead $holders

# -C: leases taken back count toward a uid's connections
set_opt "'-c' '2'" "'-c' '8' '-C' '2'"
pid=$(hp_daemon_pid)
hpf_daemon_signal KILL
hpf_wait_restart "$pid"
ok "every slot is ready" hp_until 10000 hp_field_is m ready 4
for n in d e ; do
  hp_bg s6-applyuidgid -u 65534 -g 65534 -G "" "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -n m "$siglog" "$T/pub/$n" 60 holder
done
ok "nobody holds two slots" hp_until 5000 eval 'grep -q "^grant" "$T/pub/d" && grep -q "^grant" "$T/pub/e"'
nok "before the restart, nobody's third connection is refused (-C 2)" hpp_status_as "$HPP_NOBODY"
pid=$(hp_daemon_pid)
hpf_daemon_signal KILL
hpf_wait_restart "$pid"
is "$(hpf_leases | grep -c 'uid=65534')" 2 "nobody's two leases are taken back"
nok "after the restart, nobody's third connection is refused too" hpp_status_as "$HPP_NOBODY"
ok "root still gets a status" hp_status
done_testing
