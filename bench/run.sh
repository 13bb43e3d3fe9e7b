#!/bin/sh -e
# The benchmark: every figure is a ratio against a baseline measured in the
# same run on the same machine, never an absolute target (but one: the
# daemon's memory with 1,000 leases).
#  1. time to get writable memory: a holdingpen claim against a direct mmap
#  2. a helper's own memory (excluding the resource it reserves) against
#     s6lockd-helper, the one-process-per-lock helper it is modelled on
#  3. holdingpend's memory against s6-fdholderd, the closest s6 daemon
#     (2 and 3: see "private memory" below for what is counted)
#  4. the claim's cost must not grow with idle work: a claim (connect to fd
#     in hand, through libholdingpen) with 1,100 idle slots, in 11 pools
#     and in one pool, against a claim with 4 slots configured
#  5. nor with the leases held: a claim at 1,000 live leases against a
#     claim at 1 lease, and holdingpend's private memory at 1,000 leases
#  6. a claim against the least a server can do to hand out an fd: connect,
#     a one-byte request, an answer with a memfd (bench/hp-bench-rawd)
# Figures are printed as name=value lines, targets as "max=... PASS|FAIL",
# ratios to an anchor as "BENCH name ratio=... (what / anchor)".
# Keeping (-f, an s6-fdholderd) has its own benchmark: bench/keep.sh.
# It is a measurement, not a test: it exits 0 whatever the figures.
# Usage: bench/run.sh [ size ] [ runs ] [ claims ]   (default 256M, 21, 1000)

cd "$(dirname "$0")/.."
size="${1:-256M}"
runs="${2:-21}"
claims="${3:-1000}"
B=$(pwd)
PATH="$B:$PATH" ; export PATH
make -s all bench >/dev/null
# A binary just written is dirty in the page cache until written back, and
# its mapped pages would count as Private_Dirty: write them back first.
sync holdingpend holdingpen-helper 2>/dev/null || sync
T=$(mktemp -d "${TMPDIR:-/tmp}/hp-bench.XXXXXX")
pids=
# a pid is signalled only while it is still a child of this shell: an exited
# and reaped one may have been given to another process since
ourchild () {
  test -r "/proc/$1/stat" && awk -v s="$$" '{ sub(/^.*\) /, "") ; exit ($2 == s ? 0 : 1) }' "/proc/$1/stat"
}
stop () {
  for p in "$@" ; do
    if ourchild "$p" ; then kill "$p" 2>/dev/null || true ; fi
  done
}
cleanup () {
  # shellcheck disable=SC2086
  stop $pids
  sleep 0.2
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$T/pools/bench"
echo memfd > "$T/pools/bench/kind"
echo "$size" > "$T/pools/bench/size"
echo 2 > "$T/pools/bench/count"

"$B/holdingpen-daemon" -1 -p "$T/pools" -H "$B/holdingpen-helper" "$T/sock" > "$T/ready" 2> "$T/log" &
pids="$!"
i=0
while ! test -s "$T/ready" ; do
  i=$((i+1)) ; test $i -lt 300 || { echo "bench: the daemon did not become ready" 1>&2 ; cat "$T/log" 1>&2 ; exit 111 ; }
  sleep 0.1
done
dpid=$pids

"$B/bench/hp-bench" -n "$runs" "$T/sock" bench
# idle, as measured below: a second after its last connection went,
# holdingpend hands back the holes the claims left in its heap
sleep 2

# private memory: the pages of a process that no other process maps
# (Private_Clean + Private_Dirty of smaps_rollup), what it costs beyond
# shared libraries. A page of a program's text counts as private only
# while no other process maps it: the helpers of one pool share theirs,
# so the anchor runs as many s6lockd-helpers; and the anchors run from
# copies of their binaries, so that their text is not shared with an
# s6-fdholderd that happens to run elsewhere on the machine while ours
# is counted. The dirty part alone (anonymous memory, relocated tables,
# written data), which no other process can ever share, is printed too.
private_kb () {
  awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s }' "/proc/$1/smaps_rollup"
}
dirty_kb () {
  awk '/^Private_Dirty:/ { s += $2 } END { print s }' "/proc/$1/smaps_rollup"
}
ratio () {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b ; else print "n/a" }'
}
# anchor NAME WHAT PID ANCHOR ANCHORPID: the BENCH lines of a process against its anchor
anchor () {
  a=$(private_kb "$3") ; b=$(private_kb "$5") ; ad=$(dirty_kb "$3") ; bd=$(dirty_kb "$5")
  echo "BENCH $1-private ratio=$(ratio "$a" "$b") ($2 $a kB / $4 $b kB)"
  echo "BENCH $1-private-dirty ratio=$(ratio "$ad" "$bd") ($2 $ad kB / $4 $bd kB)"
}

hpid=$(pgrep -P "$dpid" | head -n 1)
nhelpers=$(pgrep -P "$dpid" | wc -l)
s6lockd=
for d in /usr/libexec /usr/lib/s6 /usr/lib/x86_64-linux-gnu/s6 /usr/lib/*/s6 ; do
  test -x "$d/s6lockd-helper" && { s6lockd="$d/s6lockd-helper" ; break ; }
done
if test -n "$s6lockd" && test -n "$hpid" ; then
  cp "$s6lockd" "$T/s6lockd-helper"
  s6lockd="$T/s6lockd-helper"
  sync "$s6lockd"
  mkfifo "$T/fifo"
   # s6lockd-helper holds its lock until its stdin closes: give it a fifo we hold open
  exec 9<>"$T/fifo"
  lpid=
  i=0
  while test $i -lt "$nhelpers" ; do
    i=$((i+1))
    : > "$T/lock$i"
    "$s6lockd" w "$T/lock$i" < "$T/fifo" > /dev/null &
    pids="$pids $!"
    lpid=${lpid:-$!}
  done
  sleep 0.3
  echo "bench: helper footprint, idle, the reserved resource not mapped; $nhelpers of each"
  anchor helper holdingpen-helper "$hpid" s6lockd-helper "$lpid"
else
  echo "bench: helper footprint: skipped (s6lockd-helper not found)"
fi

fdholderd=$(command -v s6-fdholderd || true)
if test -n "$fdholderd" ; then
  mkdir -p "$T/rules/uid/0"
  touch "$T/rules/uid/0/allow"
  cp "$fdholderd" "$T/s6-fdholderd"
  sync "$T/s6-fdholderd"
   # what s6-fdholder-daemon runs; it execs into s6-fdholderd
  s6-ipcserver-socketbinder -a 0700 -- "$T/fdsock" "$T/s6-fdholderd" -i "$T/rules" 2>/dev/null &
  fpid=$!
  pids="$pids $fpid"
  sleep 0.3
  echo "bench: daemon footprint, idle, after $runs claims"
  anchor daemon holdingpend "$dpid" s6-fdholderd "$fpid"
fi

# The claim's cost. Pools of memfd slots of 4k, so that 1,100 slots cost
# little: "four" (4 slots), p00..p10 (11 pools of 100), "big" (1 pool of
# 1,100). Each daemon gets a maxconn above 1,000 leases and the open files
# that 1,100 slots (a helper socket and the resource each) and 1,000 leases
# (the connection and the holder's pidfd each) need: 4,200 and some
# (hp-bench-claim raises its own).
# shellcheck disable=SC2086
stop $pids
mkpool () {
  mkdir -p "$T/$1/$2"
  echo memfd > "$T/$1/$2/kind"
  echo 4k > "$T/$1/$2/size"
  echo "$3" > "$T/$1/$2/count"
}
mkpool pools4 four 4
for i in 00 01 02 03 04 05 06 07 08 09 10 ; do mkpool pools11 "p$i" 100 ; done
mkpool pools1 big 1100

# start NAME POOLDIR: a daemon on $T/NAME.sock, its pid in $started
start () {
  s6-softlimit -o 8192 "$B/holdingpen-daemon" -1 -c 1200 -p "$2" -H "$B/holdingpen-helper" "$T/$1.sock" > "$T/$1.ready" 2> "$T/$1.log" &
  started=$!
  pids="$pids $started"
}
# ready NAME PID: waits (60 s at most) for the readiness line
ready () {
  i=0
  while ! test -s "$T/$1.ready" ; do
    i=$((i+1))
    if test $i -ge 600 || ! ourchild "$2" ; then
      echo "bench: the daemon $1 did not become ready" 1>&2 ; tail -n 5 "$T/$1.log" 1>&2 ; exit 111
    fi
    sleep 0.1
  done
  test "$(cat "/proc/$2/comm")" = holdingpend || { echo "bench: pid $2 is not holdingpend" 1>&2 ; exit 111 ; }
  n=$(awk '/^Max open files/ { print $4 }' "/proc/$2/limits")
  test "$n" = unlimited || test "$n" -ge 4400 || echo "bench: warning: the daemon $1 may open $n files, fewer than the 4400 that 1,000 leases of 1,100 slots need" 1>&2
}
# down PID: stops a daemon and waits (10 s at most) until its helpers are gone
down () {
  h=$(pgrep -P "$1" || true)
  stop "$1"
  wait "$1" 2>/dev/null || true
  i=0
  for p in $h ; do
    while test -d "/proc/$p" && test $i -lt 100 ; do i=$((i+1)) ; sleep 0.1 ; done
  done
}

s6-ipcserver-socketbinder -a 0600 -- "$T/raw.sock" "$B/bench/hp-bench-rawd" 2> "$T/raw.log" &
rpid=$!
pids="$pids $rpid"
start a "$T/pools4" ; apid=$started
start b "$T/pools11" ; bpid=$started
ready a "$apid"
ready b "$bpid"
i=0
while ! test -S "$T/raw.sock" ; do
  i=$((i+1))
  if test $i -ge 50 || ! ourchild "$rpid" ; then echo "bench: hp-bench-rawd did not start" 1>&2 ; cat "$T/raw.log" 1>&2 ; exit 111 ; fi
  sleep 0.1
done
"$B/bench/hp-bench-claim" -n "$claims" -r "$T/raw.sock" c4 "$T/a.sock" four c11x100 "$T/b.sock" p10 > "$T/claim1.out"
down "$bpid"
start c "$T/pools1" ; cpid=$started
ready c "$cpid"
"$B/bench/hp-bench-claim" -n "$claims" -l 0,1,1000 -m "$cpid" c1x1100 "$T/c.sock" big c4 "$T/a.sock" four > "$T/claim2.out"
down "$cpid"

# get FILE TARGET LEASES KEY
get () {
  awk -v t="target=$2" -v l="leases=$3" -v k="$4" '$1 == "claim" && $2 == t && $3 == l {
    for (i = 4 ; i <= NF ; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' "$1"
}
mem () {
  awk -v l="leases=$1" '$1 == "memory" && $3 == l { sub(/^private_kb=/, "", $4) ; print $4 }' "$T/claim2.out"
}
# verdict NAME VALUE MAX
verdict () {
  awk -v n="$1" -v v="$2" -v m="$3" 'BEGIN { if (v == "" || v == "n/a") { print n "=n/a max=" m " FAIL" ; exit }
    printf "%s=%s max=%s %s\n", n, v, m, (v + 0 <= m + 0) ? "PASS" : "FAIL" }'
}
c4=$(get "$T/claim1.out" c4 0 p50_us)
c11=$(get "$T/claim1.out" c11x100 0 p50_us)
rawrt=$(get "$T/claim1.out" raw 0 p50_us)
c4b=$(get "$T/claim2.out" c4 0 p50_us)
c1100=$(get "$T/claim2.out" c1x1100 0 p50_us)
l1=$(get "$T/claim2.out" c1x1100 1 p50_us)
l1000=$(get "$T/claim2.out" c1x1100 1000 p50_us)
echo "bench: claim cost: connect to fd in hand, through libholdingpen, median of $claims claims of a ready slot per case"
sed 's/^/  /' "$T/claim1.out" "$T/claim2.out"
echo "claim_4slots_us=$c4"
echo "claim_1100idle_11pools_us=$c11"
echo "claim_4slots_second_run_us=$c4b"
echo "claim_1100idle_1pool_us=$c1100"
echo "claim_1lease_us=$l1"
echo "claim_1000leases_us=$l1000"
echo "raw_roundtrip_us=$rawrt"
echo "mem_idle_kb=$(mem 0)"
echo "bench: targets: ratio_1100idle_11pools = claim_1100idle_11pools_us / claim_4slots_us, ratio_1100idle_1pool = claim_1100idle_1pool_us / claim_4slots_second_run_us, ratio_1000leases = claim_1000leases_us / claim_1lease_us, ratio_claim_raw = claim_4slots_us / raw_roundtrip_us"
verdict ratio_1100idle_11pools "$(ratio "$c11" "$c4")" 1.5
verdict ratio_1100idle_1pool "$(ratio "$c1100" "$c4b")" 1.5
verdict ratio_1000leases "$(ratio "$l1000" "$l1")" 1.5
verdict mem_1000leases_kb "$(mem 1000)" 4096
verdict ratio_claim_raw "$(ratio "$c4" "$rawrt")" 1.2
