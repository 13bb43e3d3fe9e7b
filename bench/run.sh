#!/bin/sh -e
# The benchmark: every figure is a ratio against a baseline measured in the
# same run on the same machine, never an absolute target.
#  1. time to get writable memory: a holdingpen claim against a direct mmap
#  2. a helper's own memory (excluding the resource it reserves) against
#     s6lockd-helper, the one-process-per-lock helper it is modelled on
#  3. holdingpend's memory against s6-fdholderd, the closest s6 daemon
# Usage: bench/run.sh [ size ] [ runs ]   (default 256M, 21)

cd "$(dirname "$0")/.."
size="${1:-256M}"
runs="${2:-21}"
B=$(pwd)
PATH="$B:$PATH" ; export PATH
make -s all bench >/dev/null
T=$(mktemp -d "${TMPDIR:-/tmp}/hp-bench.XXXXXX")
pids=
cleanup () {
  for p in $pids ; do kill "$p" 2>/dev/null || true ; done
  sleep 0.2
  rm -rf "$T"
}
trap cleanup EXIT

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

# private memory: what the process costs the machine beyond shared libraries and files
private_kb () {
  awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s }' "/proc/$1/smaps_rollup"
}
ratio () {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b ; else print "n/a" }'
}

hpid=$(pgrep -P "$dpid" | head -n 1)
s6lockd=
for d in /usr/libexec /usr/lib/s6 /usr/lib/x86_64-linux-gnu/s6 /usr/lib/*/s6 ; do
  test -x "$d/s6lockd-helper" && { s6lockd="$d/s6lockd-helper" ; break ; }
done
if test -n "$s6lockd" && test -n "$hpid" ; then
  : > "$T/lock"
  mkfifo "$T/fifo"
   # s6lockd-helper holds its lock until its stdin closes: give it a fifo we hold open
  exec 9<>"$T/fifo"
  "$s6lockd" w "$T/lock" < "$T/fifo" > /dev/null &
  lpid=$!
  pids="$pids $lpid"
  sleep 0.3
  h=$(private_kb "$hpid") ; l=$(private_kb "$lpid")
  echo "bench: helper footprint (private memory, the reserved resource is not mapped)"
  echo "  holdingpen-helper: $h kB   baseline s6lockd-helper: $l kB   ratio helper/baseline: $(ratio "$h" "$l")"
else
  echo "bench: helper footprint: skipped (s6lockd-helper not found)"
fi

if command -v s6-fdholder-daemon >/dev/null 2>&1 ; then
  mkdir -p "$T/rules/uid/0"
  touch "$T/rules/uid/0/allow"
  s6-fdholder-daemon -i "$T/rules" "$T/fdsock" 2>/dev/null &
  pids="$pids $!"
  sleep 0.3
  fpid=$(pgrep -n -x s6-fdholderd)
  d=$(private_kb "$dpid") ; f=$(private_kb "$fpid")
  echo "bench: daemon footprint (private memory, idle, after $runs claims)"
  echo "  holdingpend: $d kB   baseline s6-fdholderd: $f kB   ratio holdingpend/baseline: $(ratio "$d" "$f")"
fi
