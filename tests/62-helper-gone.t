#!/bin/sh
# A helper whose holdingpend is gone exits 0 and says nothing, however the
# going looks to it: end of file; a reset connection (holdingpend closed
# with the helper's message unread: ECONNRESET on read); a closed socket
# met while it sends (EPIPE: its ready message will never be read).
. "$(dirname "$0")/lib.sh"

eof=$(hp_probe hp-probe-eof) || bail_out "cannot build hp-probe-eof"
for kind in memfd ballast-mem ; do
  for mode in eof reset send ; do
    out=$("$eof" "$HP_BUILD/holdingpen-helper" $kind 1M $mode)
    is "$(printf '%s\n' "$out" | tr '\n' ' ')" "exit=0 stderr=quiet " "$kind, $mode: exit 0, nothing on stderr"
  done
done

done_testing
