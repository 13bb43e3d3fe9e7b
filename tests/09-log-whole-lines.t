#!/bin/sh
# The log is written in whole lines: a helper writes to the same stderr
# at any time, so a line cut in two by a write could have a helper's
# line in its middle. 150 silent connections time out in the same turn
# of the loop, 150 lines at once, more than buffer_2 held: every write
# the daemon makes to its stderr ends with a newline, and none is larger
# than PIPE_BUF (atomic on a pipe). Before, the buffer wrote itself out
# when full, wherever that fell.
. "$(dirname "$0")/lib.sh"
command -v strace > /dev/null 2>&1 || skip_all "strace is not installed"
probe=$(hp_probe hp-probe-hostile) || bail_out "cannot build hp-probe-hostile"

hp_pool p 1M 1
hp_start_supervised -p "$T/pools" -t 1500 -c 256
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)
strace -qq -p "$pid" -e trace=write,writev -e signal=none -s 8192 -xx -o "$T/trace" 2> "$T/strace.err" &
st=$!
hp_track $st
hp_until 5000 test -s "$T/strace.err" 2>/dev/null
sleep 0.5
"$probe" "$HP_SOCKET" hold 150 4 > "$T/hold.out" &
hp_track $!
ok "150 connections time out" hp_until 8000 eval 'test "$(hp_log_kv_count event=client-error reason=timeout)" -ge 150'
sleep 0.3
kill -INT "$st" 2> /dev/null
wait "$st" 2> /dev/null
# write(2, "\x68...\x0a", N) = N, or writev(2, [{iov_base="...", iov_len=N}, ...], K) = N:
# the last byte written is the last of the last non-empty string
awk '/^writev?\(2, / { n++ ; s = $0 ; sub(/\) = [0-9]+$/, "", s)
  t = "" ; while (match(s, /"[^"]*"/)) { if (RLENGTH > 2) t = substr(s, RSTART, RLENGTH) ; s = substr(s, RSTART + RLENGTH) }
  if (t !~ /\\x0a"$/) cut++
  l = $0 ; sub(/.*\) = /, "", l) ; if (l + 0 > 4096) big++ }
  END { printf "%d %d %d\n", n, cut + 0, big + 0 }' "$T/trace" > "$T/counts"
read -r writes cut big < "$T/counts"
note "$writes writes to stderr"
cmp_ok "$writes" -gt 1 "the lines took more than one write"
is "$cut" 0 "every write ends with a newline"
is "$big" 0 "no write is larger than PIPE_BUF"
done_testing
