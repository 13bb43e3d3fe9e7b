#!/bin/sh
# holdingpend under valgrind's memcheck, through a workload that touches
# every path a client can reach: claims and releases, waits, a timeout,
# -n refusals, unknown pools, garbage and half messages, status, revoke,
# reload, a helper killed. Fails unless valgrind reports no error, no
# definitely or indirectly lost block, and no fd left open but the
# daemon's own. Usage: tools/valgrind.sh [ cycles ]  (default 200)

PROG=valgrind.sh
cd "$(dirname "$0")/.." || exit 111
B=$(pwd -P)
cycles=${1:-200}
command -v valgrind >/dev/null 2>&1 || { echo "$PROG: fatal: valgrind is needed (apt-get install valgrind)" 1>&2 ; exit 100 ; }
for p in holdingpend holdingpen-helper holdingpen-claim holdingpen-status holdingpen-revoke ; do
  test -x "$B/$p" || { echo "$PROG: fatal: $p is not built: run make" 1>&2 ; exit 100 ; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/hp-valgrind.XXXXXX")
trap 'kill $vpid 2>/dev/null ; test -n "$HP_VG_KEEP" || rm -rf "$T"' EXIT
PATH="$B:$PATH" ; export PATH
mkdir -p "$T/pools/p"
echo 4M > "$T/pools/p/size"
echo 2 > "$T/pools/p/count"

s6-ipcserver-socketbinder -a 0600 "$T/sock" \
  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    --track-fds=yes --log-file="$T/vg" \
  holdingpend -1 -p "$T/pools" -H "$B/holdingpen-helper" > "$T/ready" 2> "$T/log" &
vpid=$!
i=0
until test -s "$T/ready" ; do
  i=$((i+1)) ; test $i -lt 600 || { echo "$PROG: fatal: the daemon did not become ready" 1>&2 ; cat "$T/log" "$T/vg" 1>&2 ; exit 1 ; }
  sleep 0.1
done

s="$T/sock"
n=0
while test $n -lt "$cycles" ; do holdingpen-claim -s "$s" p true ; n=$((n+1)) ; done
holdingpen-claim -s "$s" p sleep 2 & h1=$!
holdingpen-claim -s "$s" p sleep 2 & h2=$!
sleep 0.5
holdingpen-claim -n -s "$s" p true ; echo "busy: $?" >> "$T/codes"
holdingpen-claim -t 200 -s "$s" p true ; echo "timeout: $?" >> "$T/codes"
holdingpen-claim -s "$s" p true & w=$!
holdingpen-claim -s "$s" nosuch true ; echo "nopool: $?" >> "$T/codes"
holdingpen-status -k -s "$s" > /dev/null
lease=$(holdingpen-status -k -s "$s" | sed -n 's/^lease=\([0-9]*\) .*/\1/p' | head -n 1)
holdingpen-revoke -s "$s" "$lease"
holdingpen-revoke -s "$s" 99999 ; echo "nolease: $?" >> "$T/codes"
printf 'garbage that is not a message at all' | s6-ipcclient "$s" sh -c 'cat >&7' 2>/dev/null
printf '\000\000\000\020\000\000C\000' | s6-ipcclient "$s" sh -c 'cat >&7' 2>/dev/null
printf '\000\000\000\001\000\000Z' | s6-ipcclient "$s" sh -c 'cat >&7 ; sleep 0.2' 2>/dev/null
wait $h1 $h2 $w
echo 3 > "$T/pools/p/count"
mkdir -p "$T/pools/q" ; echo 1M > "$T/pools/q/size"
holdingpen-revoke -r -s "$s"
kill -KILL $(pgrep -P "$(pgrep -P $vpid | head -n 1)" 2>/dev/null | head -n 1) 2>/dev/null
sleep 1
n=0
while test $n -lt 20 ; do holdingpen-claim -s "$s" q true ; n=$((n+1)) ; done
dpid=$(pgrep -P $vpid | head -n 1)
kill -TERM "$dpid" "$vpid" 2>/dev/null
wait $vpid

cat "$T/codes"
errors=$(grep -c '^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|definitely lost\|indirectly lost\|Mismatched\|overlap\)' "$T/vg")
fds=$(grep -c '^==[0-9]*== Open file descriptor' "$T/vg")
echo "valgrind: $cycles claim cycles, then waits, refusals, garbage, revoke, reload, a killed helper"
echo "valgrind: error reports: $errors"
sed -n 's/^==[0-9]*== \(FILE DESCRIPTORS: .*\)/valgrind: \1/p' "$T/vg"
if test "$errors" -ne 0 ; then
  cat "$T/vg"
  exit 1
fi
echo "valgrind: no memory errors, no leaks"
