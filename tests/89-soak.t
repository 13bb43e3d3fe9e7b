#!/bin/sh
# The soak: the kept configuration (holdingpend -f beside a real
# s6-fdholderd, both under a real s6-svscan) under a mix of faults, with
# its invariants checked all along and at the end.
#
#   pools     m: memfd 4M, 4 slots; x: memfd 4M, 2 slots, expire 2, killdelay 1
#   claimants 8 loops of holdingpen-claim -t 3000 (6 on m, 2 on x), each
#             claim bounded by a timeout; the holder is hp-probe-soak:
#             a fifth SIGKILLed mid-lease, a tenth forking a child that
#             keeps the lease after the parent exits, a tenth of x's
#             holders ignoring INT and TERM (the expiry must KILL them)
#   faults    per 10,000 cycles: about 50 SIGKILLs of a helper, 10
#             restarts of holdingpend (SIGKILL and s6-svc -r alternating),
#             20 reloads (s6-svc -h), at cycles drawn from the seed
#
# A cycle is one claim. HP_SOAK_CYCLES (default 2000) and HP_SOAK_SEED
# (default: from the clock; printed) choose the run: the same seed gives
# the same fault schedule and the same holders, loop by loop.
# tools/soak.sh runs this file for longer runs and under the sanitizers.
#
# Invariants: no slot in two leases (each holder writes a token and finds
# it when it leaves), no holder reads a previous holder's bytes, no claim
# hangs past its deadline, no claim refused with 111, every expiry of x
# at most E + 4K + 1 = 7 s after its grant, Shmem never more than one slot
# above what is reserved, and at the end the daemon's fds, its helpers,
# Shmem and the fd holder's entries back to their idle level, no fatal
# line in the log, and no death of holdingpend but the SIGKILLs sent. A
# broker that answers no status within 2 s is hung: the soak says so and
# stops. Every wait is bounded. Shmem is the machine's: other programs
# that create or free shared memory meanwhile move it too, so run the
# soak on a quiet machine before taking a Shmem failure for the broker's.
. "$(dirname "$0")/lib.sh"
. "$HP_TESTDIR/lib-keep.sh"

command -v s6-fdholder-list > /dev/null 2>&1 || skip_all "s6-fdholder-list is not installed"
command -v timeout > /dev/null 2>&1 || skip_all "timeout is not installed"

CYCLES=${HP_SOAK_CYCLES:-2000}
SEED=${HP_SOAK_SEED:-$(date +%s)}
case $CYCLES$SEED in
  *[!0-9]*) bail_out "HP_SOAK_CYCLES and HP_SOAK_SEED must be numbers" ;;
esac
DEADLINE=3000
# E + 4K + 1 with expire 2, killdelay 1; the KILL itself is due at E + 3K
EXPIRY_MAX=7000
KILL_DUE=5000
# a claim's own bound: its deadline, 5 s, and the longest a holder may hold
CLAIM_BOUND=$((DEADLINE / 1000 + 5 + EXPIRY_MAX / 1000 + 1))
# the whole run's: about 10 cycles a second at the slowest, and a minute
MAXSECS=${HP_SOAK_MAXSECS:-$((CYCLES / 10 + 60))}
MB=1048576
SLOT=$((4 * MB))
note "soak: $CYCLES cycles, seed $SEED (HP_SOAK_CYCLES=$CYCLES HP_SOAK_SEED=$SEED to run it again)"

holder=$(hp_probe hp-probe-soak) || bail_out "cannot build hp-probe-soak"
hp_pool m 4M 4
hp_pool x 4M 2 expire=2 killdelay=1
hpf_fdholder
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER"
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up || bail_out "the daemon did not become ready"

# The claimant loops export this run's mark, so that every process they
# start (a timeout, a claim, a holder, a holder's child) carries it in its
# environment, and only those: the test's own shell never does.
# soak_pids finds them, and whatever ends the test, soak_reap kills what
# is left of them.
HP_SOAK_RUN=$T
soak_pids() {
  grep -lxzF "HP_SOAK_RUN=$HP_SOAK_RUN" /proc/[0-9]*/environ 2> /dev/null | while IFS=/ read -r _ _ _sp_p _ ; do
    test "$_sp_p" -gt 1 && test "$_sp_p" -ne $$ && echo "$_sp_p"
  done
}
soak_none() {
  test -z "$(soak_pids)"
}
soak_reap() {
  for _sr_p in $(soak_pids) ; do kill -KILL "$_sr_p" 2> /dev/null ; done
}
hp_at_exit "soak_reap"

# --- the idle baseline ----------------------------------------------------------

ok "the pools are ready" hp_until 10000 eval 'hp_field_is m ready 4 && hp_field_is x ready 2'
sleep 0.5
pid0=$(hp_daemon_pid) || bail_out "no daemon"
fds0=$(hp_fd_count "$pid0")
helpers0=$(hp_helper_count "$pid0")
shmem0=$(hp_shmem)
entries0=$(s6-fdholder-list "$HPF_FDHOLDER" 2> /dev/null | sort)
note "idle: $fds0 fds, $helpers0 helpers, Shmem $shmem0, $(printf '%s\n' "$entries0" | grep -c .) fd holder entries"
is "$helpers0" 6 "six helpers for six slots"

# --- the seeded schedule ----------------------------------------------------------

# the faults: "CYCLE helper|kill|restart|reload N", sorted by cycle
awk -v c="$CYCLES" -v seed="$SEED" 'BEGIN {
  srand(seed)
  nh = int(c * 50 / 10000 + 0.5) ; nr = int(c * 10 / 10000 + 0.5) ; nl = int(c * 20 / 10000 + 0.5)
  if (nr < 2) nr = 2
  for (i = 0; i < nh; i++) print int(c * (0.05 + 0.85 * rand())), "helper", int(rand() * 1000)
  for (i = 0; i < nr; i++) print int(c * (0.05 + 0.85 * rand())), "restart", 0
  for (i = 0; i < nl; i++) print int(c * (0.05 + 0.85 * rand())), "reload", 0
}' | sort -n -k1,1 | awk '$2 == "restart" { $2 = (k++ % 2) ? "restart" : "kill" } { print }' > "$T/schedule"
note "schedule: $(awk '{ n[$2]++ } END { for (k in n) printf "%s=%d ", k, n[k] }' "$T/schedule")"

# the holders of loop L: "POOL HOW MILLISECS", one line per claim
holders() {
  awk -v n="$CYCLES" -v seed="$SEED" -v l="$1" -v pool="$2" 'BEGIN {
    srand(seed * 16 + l)
    for (i = 0; i < n; i++) {
      r = rand() ; ms = int(rand() * 200)
      if (r < 0.2) how = "kill"
      else if (r < 0.3) how = "fork"
      else if (pool == "x" && r < 0.4) how = "stubborn"
      else how = "hold"
      print pool, how, ms
    }
  }'
}

# --- the claimant loops ------------------------------------------------------------

# claimant L POOL: claims one after the other until $T/stop exists or its
# list is done; for each: "done L.I RC START END" in $T/rec.L, the
# holder's own lines beside it
claimant() {
  export HP_SOAK_RUN
  _cl_i=0
  holders "$1" "$2" > "$T/holders.$1"
  while read -r _cl_pool _cl_how _cl_ms ; do
    test -e "$T/stop" && break
    _cl_i=$((_cl_i + 1))
    _cl_t0=$(hp_now_ms)
    timeout -s KILL "$CLAIM_BOUND" "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -t "$DEADLINE" "$_cl_pool" \
      "$holder" "$T/rec.$1" "$1.$_cl_i" "$_cl_how" "$_cl_ms" < /dev/null > /dev/null 2>> "$T/err.$1"
    _cl_rc=$?
    echo "done $1.$_cl_i $_cl_rc $_cl_t0 $(hp_now_ms)" >> "$T/rec.$1"
  done < "$T/holders.$1"
}
loops=
for l in 1 2 3 4 5 6 7 8 ; do
  if test "$l" -le 6 ; then claimant "$l" m & else claimant "$l" x & fi
  hp_track $!
  loops="$loops $!"
done

# Shmem all along
( while ! test -e "$T/stop" ; do hp_shmem ; sleep 0.1 ; done ) > "$T/shmem" &
sampler=$!
hp_track "$sampler"

# --- the faults, and the watch for a hung broker ---------------------------------

cycles() {
  cat "$T"/rec.* 2> /dev/null | grep -c '^done'
}

# is_comm PID NAME: PID is a number above 1 and its command is NAME
is_comm() {
  case $1 in ''|*[!0-9]*) return 1 ;; esac
  test "$1" -gt 1 && test "x$(cat "/proc/$1/comm" 2> /dev/null)" = "x$2"
}

# ready_pid: the service's pid if it is up and ready, else nothing
ready_pid() {
  _rp=$(s6-svstat -o up,ready,pid "$HP_SVC" 2> /dev/null) || return 1
  set -- $_rp
  test "$1" = true && test "$2" = true && echo "$3"
}

# hung: the ready broker does not answer a status within 2 s, and is still
# the same process afterwards
hung() {
  _hg_p=$(ready_pid) || return 1
  test -n "$_hg_p" || return 1
  timeout -s KILL 2 "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" > /dev/null 2>&1
  test $? -eq 137 && test "x$(ready_pid)" = "x$_hg_p"
}

stopped=
kills=0 ; restarts=0 ; reloads=0 ; helperkills=0
: > "$T/restart-ms"
fault() {
  case $2 in
    helper)
      _ft_pids=$(hp_helper_pids) || return 0
      _ft_n=$(printf '%s\n' $_ft_pids | grep -c .)
      test "$_ft_n" -gt 0 || return 0
      _ft_p=$(printf '%s\n' $_ft_pids | sed -n "$(($3 % _ft_n + 1))p")
      is_comm "$_ft_p" holdingpen-help && kill -KILL "$_ft_p" && helperkills=$((helperkills + 1)) ;;
    reload)
      s6-svc -h "$HP_SVC" && reloads=$((reloads + 1)) ;;
    kill|restart)
      _ft_p=$(hp_daemon_pid) || { stopped="no holdingpend to restart at cycle $1" ; return 1 ; }
      is_comm "$_ft_p" holdingpend || { stopped="pid $_ft_p is not holdingpend" ; return 1 ; }
      _ft_t0=$(hp_now_ms)
      if test "$2" = kill ; then kill -KILL "$_ft_p" && kills=$((kills + 1))
      else s6-svc -r "$HP_SVC" && restarts=$((restarts + 1)) ; fi
      if hpf_wait_restart "$_ft_p" ; then
        echo $(($(hp_now_ms) - _ft_t0)) >> "$T/restart-ms"
      else
        stopped="holdingpend was not ready again 30 s after a $2 at cycle $1" ; return 1
      fi ;;
  esac
  return 0
}

start=$(hp_now_ms)
lastcheck=0
n=0
exec 3< "$T/schedule"
next=
while : ; do
  n=$(cycles)
  test "$n" -ge "$CYCLES" && break
  now=$(hp_now_ms)
  if test $((now - start)) -gt $((MAXSECS * 1000)) ; then
    stopped="only $n cycles in $MAXSECS s" ; break
  fi
  test -n "$next" || read -r next <&3 || next=never
  # shellcheck disable=SC2086
  set -- $next
  if test "$1" != never && test "$1" -le "$n" ; then
    fault "$@" || break
    next=
    continue
  fi
  if test $((now - lastcheck)) -ge 1000 ; then
    lastcheck=$now
    if hung && hung ; then
      stopped="holdingpend (pid $(ready_pid)) answered no status within 2 s, twice, at cycle $n: hung"
      break
    fi
  fi
  sleep 0.2
done
exec 3<&-
touch "$T/stop"
wall=$(( ($(hp_now_ms) - start) / 1000 ))
is "$stopped" "" "the soak ran its $CYCLES cycles (seed $SEED): no hung broker, no restart that did not end"
# shellcheck disable=SC2086
ok "the claimant loops stop" hp_until $((CLAIM_BOUND * 1000 + 5000)) hp_all_dead $loops
ok "their claims and holders are gone" hp_until 10000 soak_none
wait "$sampler" 2> /dev/null
n=$(cycles)

# --- what the records say ------------------------------------------------------------

cat "$T"/rec.* > "$T/rec"
# one "done" per claim; a claim was granted if its holder wrote "grant"
awk -v dl="$DEADLINE" -v due="$KILL_DUE" -v emax="$EXPIRY_MAX" '
  $1 == "grant" { g[$2] = $6 ; pool[$2] = $3 }
  $1 == "end" { e[$2] = $6 }
  $1 == "done" { d[$2] = $5 ; s[$2] = $4 ; rc[$2] = $3 }
  $1 == "dirty" { dirty++ } $1 == "lost" { lost++ }
  END {
    for (k in d) {
      if (k in g) { codes["granted"]++ ; if (g[k] - s[k] > dl + 5000) hang++ }
      else { codes["rc=" rc[k]]++ ; if (d[k] - s[k] > dl + 5000) hang++ ; if (rc[k] == 111) refused++ }
      if ((k in g) && pool[k] == "x") {
        end = (k in e) ? e[k] : d[k] ; life = end - g[k]
        if (life > emax) { late++ ; print "late", k, life > "/dev/stderr" }
        if (life > due && life - due > lateness) lateness = life - due
        if (life > maxlife) maxlife = life
      }
    }
    printf "codes" ; for (c in codes) printf " %s=%d", c, codes[c] ; printf "\n"
    printf "hang %d\nrefused %d\ndirty %d\nlost %d\nlate %d\nlateness %d\nmaxlife %d\n", hang, refused, dirty, lost, late, lateness, maxlife
  }' "$T/rec" > "$T/figures" 2> "$T/late"
fig() { awk -v k="$1" '$1 == k { print $2 }' "$T/figures" ; }
stubborn=$(grep -c '^sig .* CONT ' "$T/rec")
# the careful kill of a holder that ignores INT and TERM: each of CONT,
# INT and TERM once, in that order, then KILL; a restart must neither
# skip a step nor send one again
awk '$1 == "sig" { seq[$2] = seq[$2] " " $3 }
  END { for (k in seq) if (seq[k] != " CONT INT TERM") print k ":" seq[k] }' "$T/rec" > "$T/badseq"
is "$(wc -l < "$T/badseq" | tr -d ' ')" 0 "every careful kill sent CONT, INT, TERM once each, in order ($stubborn)"
test -s "$T/badseq" && diag "$(head -n 10 "$T/badseq")"
is "$(fig dirty)" 0 "no holder got a slot with a previous holder's bytes"
is "$(fig lost)" 0 "no holder's token was overwritten: no slot in two leases"
is "$(fig hang)" 0 "no claim went on past its deadline + 5 s"
is "$(fig refused)" 0 "no claim was refused with 111 (cannot connect)"
is "$(fig late)" 0 "every lease of x ended at most $EXPIRY_MAX ms after its grant"
test -s "$T/late" && diag "$(head -n 20 "$T/late")"
peak=$(sort -n "$T/shmem" | tail -n 1)
cmp_ok "$((peak - shmem0))" -le $((SLOT + $(hp_shmem_slack))) "Shmem never rose by more than one slot above what is reserved"

# --- back to idle ------------------------------------------------------------------

if test -z "$stopped" ; then
  ok "every slot is ready again" hp_until 20000 eval 'hp_field_is m ready 4 && hp_field_is x ready 2'
  pid=$(hp_daemon_pid)
  ok "the daemon's fds are back to their idle count ($fds0)" hp_until 10000 eval 'test "$(hp_fd_count "$pid")" -eq "$fds0"'
  is "$(hp_helper_count "$pid")" "$helpers0" "as many helpers as when idle"
  ok "Shmem is back to its idle level" hp_until 10000 eval 'test $(( $(hp_shmem) - shmem0 )) -lt $((SLOT / 2))'
  ok "the fd holder keeps what it kept when idle" hp_until 10000 eval 'test "x$(s6-fdholder-list "$HPF_FDHOLDER" 2> /dev/null | sort)" = "x$entries0"'
else
  skip "the soak stopped: $stopped" 5
fi
fatal=$(grep -c 'fatal' "$T/log")
is "$fatal" 0 "no fatal line in the broker's log"
test "$fatal" -gt 0 && diag "$(grep 'fatal' "$T/log" | head -n 5)"
starts=$(hp_log_count 'event=start')
is "$starts" $((1 + kills + restarts)) "holdingpend started once and once per restart"
s6-svdt "$HP_SVC" > "$T/svdt" 2>&1
signals=$(grep -c 'signal' "$T/svdt")
sigkills=$(grep -c 'signal SIGKILL' "$T/svdt")
is "$((signals - sigkills))" 0 "holdingpen died of no signal but SIGKILL"
grep 'signal' "$T/svdt" | grep -v SIGKILL | head -n 5 | while read -r l ; do diag "s6-svdt: $l" ; done
cmp_ok "$sigkills" -le "$kills" "and of no more SIGKILLs than were sent ($kills)"

rms=$(sort -n "$T/restart-ms")
rmax=$(printf '%s\n' "$rms" | tail -n 1)
rmed=$(printf '%s\n' "$rms" | awk 'NF { a[++n] = $1 } END { if (n) print a[int((n + 1) / 2)] }')
note "soak: seed=$SEED cycles=$n wall=${wall}s $(sed -n 's/^codes //p' "$T/figures") restarts=$((kills + restarts)) (kill=$kills svc-r=$restarts) reloads=$reloads helperkills=$helperkills restart-to-ready-ms max=${rmax:--} median=${rmed:--} expiry-lateness-max-ms=$(fig lateness) x-lease-max-ms=$(fig maxlife) stubborn=$stubborn shmem-peak-over-idle=$((peak - shmem0))"
test -n "$stopped" && note "soak stopped: $stopped"
done_testing
