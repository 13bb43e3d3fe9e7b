#!/bin/sh -e
# The benchmark of keeping (-f): leases and reservations kept in an
# s6-fdholderd, measured against baselines taken in the same run, under a
# real s6-svscan with a real s6-fdholderd. Three measurements:
#  a. the claim's cost with keeping: claims (connect to fd in hand, through
#     libholdingpen) against a broker with -f and its fd holder, interleaved
#     one by one with claims against a broker without -f on the same pool
#     directory; the medians and their ratio
#  b. the claim with the fd holder stopped (SIGSTOP): that many claims and
#     releases, their median, p99 and max, the median against (a)'s; then a
#     lease made while it is stopped, SIGCONT, and how long until the fd
#     holder lists its records (the lease's and its held resource's)
#  c. a restart to readiness with that many live leases kept (one process
#     holds them all), by SIGKILL of holdingpend, from its death to the new
#     one's readiness as s6-supervise stamps them; s6-supervise's own delay
#     (death to spawn) apart; against the same restart with no lease, the
#     two interleaved
# Every figure is printed as a "BENCH name=value" line, targets as
# "BENCH name=value max=... PASS|FAIL". It is a measurement, not a test:
# it exits 0 whatever the figures.
# Usage: bench/keep.sh [ claims ] [ stopped ] [ leases ] [ restarts ]
#   (default 1000 claims in a, 200 claims in b, 1000 leases, 5 restarts of each kind in c)

set -e
cd "$(dirname "$0")/.."
claims="${1:-1000}"
stopped="${2:-200}"
leases="${3:-1000}"
restarts="${4:-5}"
B=$(pwd)
PATH="$B:$PATH" ; export PATH
make -s all bench >/dev/null
for p in s6-svscan s6-svscanctl s6-svc s6-svstat s6-svwait s6-softlimit s6-fdholder-daemon s6-fdholder-list ; do
  command -v "$p" >/dev/null 2>&1 || { echo "bench: $p is not installed" 1>&2 ; exit 111 ; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/hp-keep.XXXXXX")
S="$T/scan"
svscan=
fdpid=
# a pid is signalled only while it is still a child of this shell: an exited
# and reaped one may have been given to another process since
ourchild () {
  test -r "/proc/$1/stat" && awk -v s="$$" '{ sub(/^.*\) /, "") ; exit ($2 == s ? 0 : 1) }' "/proc/$1/stat"
}
cleanup () {
  exec 8>&- 9>&-
  if test -n "$fdpid" ; then cont_fdholder ; fi
  if test -n "$svscan" && ourchild "$svscan" ; then
    s6-svscanctl -t "$S" 2>/dev/null || true
    i=0
    while ourchild "$svscan" && ! grep -q '^State:.*Z' "/proc/$svscan/status" 2>/dev/null && test $i -lt 100 ; do i=$((i+1)) ; sleep 0.1 ; done
    if ourchild "$svscan" && ! grep -q '^State:.*Z' "/proc/$svscan/status" 2>/dev/null ; then kill -KILL "$svscan" 2>/dev/null || true ; fi
    wait "$svscan" 2>/dev/null || true
  fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

quote () {
  printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}
ratio () {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b ; else print "n/a" }'
}
# verdict NAME VALUE MAX
verdict () {
  awk -v n="$1" -v v="$2" -v m="$3" 'BEGIN { if (v == "" || v == "n/a") { print "BENCH " n "=n/a max=" m " FAIL" ; exit }
    printf "BENCH %s=%s max=%s %s\n", n, v, m, (v + 0 <= m + 0) ? "PASS" : "FAIL" }'
}
# median of the numbers on stdin
median () {
  sort -n | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# field FILE PREFIX KEY: the value of KEY= on the lines of FILE starting with PREFIX
field () {
  awk -v p="$2" -v k="$3" 'index($0, p) == 1 { for (i = 1 ; i <= NF ; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' "$1"
}

# --- the services -------------------------------------------------------------
#
# fdholder: s6-fdholderd, room for three fds a lease (its connection, its
# holder's pidfd, its held resource), a ready slot's resource, the
# listening sockets. keep: a broker with -f; nokeep: one without. Both
# start down; a broker's pool directory is $T/NAME.pools, a link.

nfds=$((3 * leases + 200))
test "$nfds" -ge 1000 || nfds=1000
maxconn=$((leases + 100))
mkdir -p "$T/rules/uid/$(id -u)/env" "$S/fdholder" "$T/pools/four" "$T/pools1k/k"
: > "$T/rules/uid/$(id -u)/allow"
echo '^holdingpen/' > "$T/rules/uid/$(id -u)/env/S6_FDHOLDER_STORE_REGEX"
echo '^holdingpen/' > "$T/rules/uid/$(id -u)/env/S6_FDHOLDER_RETRIEVE_REGEX"
echo 1 > "$T/rules/uid/$(id -u)/env/S6_FDHOLDER_GETDUMP"
echo 1 > "$T/rules/uid/$(id -u)/env/S6_FDHOLDER_LIST"
{
  echo '#!/bin/sh'
  echo "exec 2>>$(quote "$T/fdholder.log")"
  echo "exec s6-softlimit -o $((nfds + 64)) s6-fdholder-daemon -1 -n $nfds -i $(quote "$T/rules") $(quote "$T/fd.sock")"
} > "$S/fdholder/run"
chmod 755 "$S/fdholder/run"
echo 1 > "$S/fdholder/notification-fd"

echo memfd > "$T/pools/four/kind"
echo 4k > "$T/pools/four/size"
echo 4 > "$T/pools/four/count"
echo memfd > "$T/pools1k/k/kind"
echo 4k > "$T/pools1k/k/size"
echo "$leases" > "$T/pools1k/k/count"

# service NAME [ -f ]: a broker on $T/NAME.sock, its log $T/NAME.log
service () {
  mkdir -p "$S/$1"
  ln -sfn "$T/pools" "$T/$1.pools"
  opts=
  test "x$2" = x-f && opts="-f $(quote "$T/fd.sock")"
  {
    echo '#!/bin/sh'
    echo "exec 2>>$(quote "$T/$1.log")"
    echo "PATH=$(quote "$B"):\$PATH"
    echo 'export PATH'
    echo "exec s6-softlimit -o $((4 * leases + 1024)) holdingpen-daemon -1 -c $maxconn -C $maxconn -H $(quote "$B/holdingpen-helper") $opts -p $(quote "$T/$1.pools") $(quote "$T/$1.sock")"
  } > "$S/$1/run"
  chmod 755 "$S/$1/run"
  echo 1 > "$S/$1/notification-fd"
  : > "$S/$1/down"
}
service keep -f
service nokeep
: > "$S/fdholder/down"
s6-svscan "$S" < /dev/null > "$T/svscan.log" 2>&1 &
svscan=$!

up () {
  i=0
  # s6-svok answers a moment before s6-supervise writes the status s6-svwait reads
  while ! { s6-svok "$S/$1" 2>/dev/null && test -f "$S/$1/supervise/status" ; } ; do
    i=$((i+1)) ; test $i -lt 100 || { echo "bench: no supervisor for $1" 1>&2 ; exit 111 ; }
    sleep 0.05
  done
  s6-svc -u "$S/$1"
  if ! s6-svwait -U -t 60000 "$S/$1" ; then
    echo "bench: $1 did not become ready" 1>&2 ; tail -n 5 "$T/$1.log" 1>&2 ; exit 111
  fi
}
down () {
  s6-svc -d "$S/$1"
  s6-svwait -D -t 10000 "$S/$1" || { echo "bench: $1 did not go down" 1>&2 ; exit 111 ; }
}

# The fd holder's pid, checked: the service's process, and s6-fdholderd.
fdholder_pid () {
  p=$(s6-svstat -p "$S/fdholder")
  case $p in
    ''|*[!0-9]*|0|1) echo "bench: no pid for the fd holder: '$p'" 1>&2 ; exit 111 ;;
  esac
  test "$(cat "/proc/$p/comm" 2>/dev/null)" = s6-fdholderd || { echo "bench: pid $p is not s6-fdholderd" 1>&2 ; exit 111 ; }
  echo "$p"
}
# SIGCONT to the fd holder stopped by us, if it is still that process
cont_fdholder () {
  if test "$(s6-svstat -p "$S/fdholder" 2>/dev/null)" = "$fdpid" && test "$(cat "/proc/$fdpid/comm" 2>/dev/null)" = s6-fdholderd ; then
    kill -CONT "$fdpid" || true
  fi
  fdpid=
}

up fdholder
up keep
up nokeep

# --- a. the claim's cost, with keeping and without ---------------------------

"$B/bench/hp-bench-claim" -n "$claims" keep "$T/keep.sock" four nokeep "$T/nokeep.sock" four > "$T/a.out"
akeep=$(field "$T/a.out" "claim target=keep " p50_us)
anokeep=$(field "$T/a.out" "claim target=nokeep " p50_us)
echo "bench: a. the claim's cost, interleaved, $claims claims each of a ready slot of 4 (memfd 4k), connect to fd in hand"
sed 's/^/  /' "$T/a.out"
echo "BENCH claim_keep_p50_us=$akeep"
echo "BENCH claim_nokeep_p50_us=$anokeep"
verdict ratio_claim_keep_nokeep "$(ratio "$akeep" "$anokeep")" 1.1

# --- b. the claim with the fd holder stopped ---------------------------------

fdpid=$(fdholder_pid)
kill -STOP "$fdpid"
"$B/bench/hp-bench-claim" -n "$stopped" -w 0 stopped "$T/keep.sock" four > "$T/b.out"
# a lease made while it is stopped, then SIGCONT: its records must come
rm -f "$T/hold1"
mkfifo "$T/hold1"
"$B/bench/hp-bench-hold" 1 "$T/keep.sock" four < "$T/hold1" > "$T/hold1.out" &
exec 8> "$T/hold1"
i=0
while ! grep -q '^held 1$' "$T/hold1.out" ; do
  i=$((i+1)) ; test $i -lt 200 || { echo "bench: no lease while the fd holder is stopped" 1>&2 ; exit 111 ; }
  sleep 0.05
done
lease=$(holdingpen-status -s "$T/keep.sock" -k four | sed -n 's/^lease=\([0-9]*\) .*/\1/p')
case $lease in ''|*[!0-9]*) echo "bench: not one lease in the status: '$lease'" 1>&2 ; exit 111 ;; esac
cont_fdholder
t0=$(date +%s%N)
kept=
i=0
while test $i -lt 500 ; do
  s6-fdholder-list "$T/fd.sock" > "$T/list" 2>/dev/null || true
  if grep -q "^holdingpen/lease/$lease/" "$T/list" && grep -q "^holdingpen/held/$lease/" "$T/list" ; then
    kept=$(( ($(date +%s%N) - t0) / 1000000 ))
    break
  fi
  i=$((i+1))
  sleep 0.01
done
exec 8>&-
wait $! 2>/dev/null || true
bp50=$(field "$T/b.out" "claim target=stopped " p50_us)
bp99=$(field "$T/b.out" "claim target=stopped " p99_us)
bmax=$(field "$T/b.out" "claim target=stopped " max_us)
echo "bench: b. $stopped claims with the fd holder stopped (SIGSTOP), then a lease made while stopped, SIGCONT"
sed 's/^/  /' "$T/b.out"
echo "BENCH stopped_claim_p50_us=$bp50"
echo "BENCH stopped_claim_p99_us=$bp99"
echo "BENCH stopped_claim_max_us=$bmax"
echo "BENCH ratio_stopped_unstopped=$(ratio "$bp50" "$akeep")"
verdict stopped_claim_max_ms "$(awk -v u="$bmax" 'BEGIN { if (u != "") printf "%.1f", u / 1000 }')" 50
if test -n "$kept" ; then
  echo "BENCH kept_after_cont_ms=$kept PASS"
else
  echo "BENCH kept_after_cont_ms=n/a FAIL (no lease/$lease and held/$lease records 5 s after SIGCONT)"
fi

# --- c. restart to readiness, with leases kept and without --------------------

down keep
down nokeep
ln -sfn "$T/pools1k" "$T/keep.pools"
up keep
# ready: every slot ready again, and the broker ready for more than a
# second, so that s6-supervise restarts it at once
settle () {
  i=0
  while test "$(holdingpen-status -s "$T/keep.sock" -k k 2>/dev/null | sed -n 's/^pool=k .* ready=\([0-9]*\).*/\1/p')" != "$1" ; do
    i=$((i+1)) ; test $i -lt 600 || { echo "bench: pool k never had $1 slots ready" 1>&2 ; exit 111 ; }
    sleep 0.1
  done
  sleep 1.5
}
# taken KEY: KEY's value in the log line of the last restore (leases, slots)
taken () {
  grep 'event=restore ' "$T/keep.log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}
rm -f "$T/holdk"
mkfifo "$T/holdk"
: > "$T/c0.out"
: > "$T/c1.out"
: > "$T/c0.taken"
: > "$T/c1.taken"
for r in $(seq 1 "$restarts") ; do
  settle "$leases"
  "$B/bench/hp-bench-restart" "$S/keep" holdingpend >> "$T/c0.out"
  taken slots >> "$T/c0.taken"
  "$B/bench/hp-bench-hold" "$leases" "$T/keep.sock" k < "$T/holdk" > "$T/holdk.out" &
  hpid=$!
  exec 9> "$T/holdk"
  i=0
  while ! grep -q "^held $leases\$" "$T/holdk.out" ; do
    i=$((i+1))
    if test $i -ge 1200 || ! ourchild "$hpid" ; then echo "bench: $leases leases not held" 1>&2 ; exit 111 ; fi
    sleep 0.05
  done
  settle 0
  "$B/bench/hp-bench-restart" "$S/keep" holdingpend >> "$T/c1.out"
  taken leases >> "$T/c1.taken"
  exec 9>&-
  wait "$hpid" 2>/dev/null || true
done
echo "bench: c. restart by SIGKILL to readiness, $restarts times each, interleaved: 0 leases ($leases slots ready, kept) and $leases leases (held by one process, kept); medians"
sed 's/^/  0 leases: /' "$T/c0.out"
sed "s/^/  $leases leases: /" "$T/c1.out"
for f in death_to_spawn_ms spawn_to_ready_ms death_to_ready_ms ; do
  eval "c0_$f=\$(field \"\$T/c0.out\" restart $f | median)"
  eval "c1_$f=\$(field \"\$T/c1.out\" restart $f | median)"
done
# what each restart took back, the least of them: a restart that takes
# nothing back re-reserves every slot and loses every lease, and is no
# measure of a restart with leases kept
t0=$(sort -n "$T/c0.taken" | head -n 1)
t1=$(sort -n "$T/c1.taken" | head -n 1)
echo "BENCH restart_0leases_slots_taken_back=${t0:-0}/$leases $(test "${t0:-0}" = "$leases" && echo PASS || echo FAIL)"
echo "BENCH restart_${leases}leases_leases_taken_back=${t1:-0}/$leases $(test "${t1:-0}" = "$leases" && echo PASS || echo FAIL)"
if grep -q 'unable to get what the fd holder keeps' "$T/keep.log" ; then
  echo "bench: the broker could not take back what was kept, $(grep -c 'unable to get what the fd holder keeps' "$T/keep.log") times:"
  grep 'unable to get what the fd holder keeps' "$T/keep.log" | sort | uniq -c | sed 's/^/  /'
fi
echo "BENCH restart_0leases_ms=$c0_death_to_ready_ms"
echo "BENCH restart_${leases}leases_ms=$c1_death_to_ready_ms"
echo "BENCH restart_${leases}leases_supervise_delay_ms=$c1_death_to_spawn_ms"
echo "BENCH restart_0leases_beyond_delay_ms=$c0_spawn_to_ready_ms"
echo "BENCH ratio_restart_${leases}leases_0leases=$(ratio "$c1_death_to_ready_ms" "$c0_death_to_ready_ms")"
verdict "restart_${leases}leases_beyond_delay_ms" "$c1_spawn_to_ready_ms" 200
