#!/bin/sh
# The careful kill across restarts: a pool with expire 2 and killdelay 1,
# holders that ignore INT and TERM (and log every signal they get, with
# its time); holdingpend restarted (SIGKILL and s6-svc -r, alternately) at
# seeded random moments during the kill sequence. Every holder gets
# CONT, INT, TERM exactly once each, in that order, then KILL (seen as its
# death), and its lease ends at most E + 4K + 1 = 7 s after its grant.
# HP_KR_SEED chooses the moments (printed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"

SEED=${HP_KR_SEED:-$(date +%s)}
ROUNDS=${HP_KR_ROUNDS:-4}
case $SEED$ROUNDS in *[!0-9]*) bail_out "HP_KR_SEED and HP_KR_ROUNDS must be numbers" ;; esac
note "seed $SEED (HP_KR_SEED=$SEED to run it again)"
hp_pool x 1M 2 expire=2 killdelay=1
hpf_fdholder
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER"
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up || bail_out "the daemon did not become ready"
ok "the pool is ready" hp_until 10000 hp_field_is x ready 2
siglog=$(hp_probe hp-probe-siglog) || bail_out "cannot build hp-probe-siglog"

# two restarts per round, at 1.2 to 6.5 s after the grants: the sequence
# is CONT at 2, INT at 3, TERM at 4, KILL at 5, the end at 6 at the latest
awk -v n="$ROUNDS" -v seed="$SEED" 'BEGIN { srand(seed)
  for (i = 0; i < n; i++) { a = 1200 + int(rand() * 5300) ; b = 1200 + int(rand() * 5300)
    if (a > b) { t = a ; a = b ; b = t } ; if (b - a < 400) b = a + 400 ; print a, b } }' > "$T/moments"

restarts=0 ; notup=
restart() {
  _r_pid=$(hp_daemon_pid) || { notup="no daemon" ; return 1 ; }
  if test $((restarts % 2)) -eq 0 ; then hpf_daemon_signal KILL ; else s6-svc -r "$HP_SVC" ; fi
  restarts=$((restarts + 1))
  hpf_wait_restart "$_r_pid" || { notup="not ready after restart $restarts" ; return 1 ; }
}

round=0
while read -r m1 m2 ; do
  round=$((round + 1))
  for h in a b ; do
    (
      "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -n x "$siglog" "$T/rec.$round$h" 30 holder
      echo "died $(hp_now_ms)" >> "$T/rec.$round$h"
    ) < /dev/null > /dev/null 2>&1 &
    hp_track $!
  done
  hp_until 5000 eval 'grep -q "^grant" "$T/rec.${round}a" && grep -q "^grant" "$T/rec.${round}b"'
  g=$(awk '$1 == "grant" { print $5 }' "$T/rec.${round}a")
  while test $(($(hp_now_ms) - g)) -lt "$m1" ; do sleep 0.01 ; done
  restart || break
  while test $(($(hp_now_ms) - g)) -lt "$m2" ; do sleep 0.01 ; done
  restart || break
  hp_until 10000 eval 'grep -q "^died" "$T/rec.${round}a" && grep -q "^died" "$T/rec.${round}b"'
  ok "round $round: the slots are ready again" hp_until 5000 hp_field_is x ready 2
  note "round $round: restarts at $m1 and $m2 ms"
done < "$T/moments"
is "$notup" "" "holdingpend was ready again after each of $restarts restarts"

bad=0
for f in "$T"/rec.* ; do
  n=${f##*/rec.}
  seq=$(awk '$1 == "sig" { printf "%s ", $2 }' "$f")
  life=$(awk '$1 == "grant" { g = $5 } $1 == "died" { d = $2 } END { if (g && d) print d - g ; else print "none" }' "$f")
  if test "$seq" != "CONT INT TERM " || test "$life" = none || test "$life" -gt 7000 ; then
    bad=$((bad + 1))
    diag "holder $n: signals '$seq', dead $life ms after its grant: $(awk '$1 == "sig" || $1 == "grant" || $1 == "died"' "$f" | tr '\n' ' ')"
  else
    note "holder $n: $seq, dead $life ms after its grant"
  fi
done
is "$bad" 0 "every holder got CONT, INT, TERM once each in order, and was dead at most 7 s after its grant"

# on schedule, not early either: CONT at least E after the grant, each
# signal at least K after the one before (100 ms for the loop's own jitter)
early=$(for f in "$T"/rec.* ; do
  awk -v n="${f##*/rec.}" '$1 == "grant" { g = $5 } $1 == "sig" { t[$2] = $3 } $1 == "died" { d = $2 }
    END { if (t["CONT"] - g < 1900) printf "%s: CONT %d ms after the grant\n", n, t["CONT"] - g
      if (t["INT"] - t["CONT"] < 900) printf "%s: INT %d ms after CONT\n", n, t["INT"] - t["CONT"]
      if (t["TERM"] - t["INT"] < 900) printf "%s: TERM %d ms after INT\n", n, t["TERM"] - t["INT"]
      if (d - t["TERM"] < 900) printf "%s: KILL %d ms after TERM\n", n, d - t["TERM"] }' "$f"
done)
is "$early" "" "no step of any careful kill came early"
# the log: each signal sent once to each holder, across every holdingpend
# (lease ids start again at 1 after a restart with no lease: the pid too)
dup=$(hp_log_kv event=kill sent=yes | sed -n 's/.* lease=\([0-9]*\) pid=\([0-9]*\) signal=\([A-Z]*\).*/\1 \2 \3/p' | sort | uniq -d)
is "$dup" "" "the log shows no signal sent twice to a lease"
ok "no lease is left" hp_until 3000 eval 'test -z "$(hpf_leases)"'
done_testing
