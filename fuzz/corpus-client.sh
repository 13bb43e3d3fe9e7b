#!/bin/sh -e
# Writes the seed corpus of fuzz/fuzz-client.c into fuzz/corpus/client.
# Each input is a list of chunks: a control byte (1 + its low 6 bits: the
# length of the chunk; 0x80: fds ride along, 3 of them if 0x40, else 1;
# 0x40 without 0x80: the daemon reads before the next chunk), then the
# chunk's bytes. A request is a frame: length u32, fds u16, big-endian.

cd "$(dirname "$0")"
d=corpus/client
mkdir -p "$d"
claim_nowait='\000\000\000\016\000\000C\001\377\377\377\377default\000'
claim_wait='\000\000\000\016\000\000C\000\000\000\003\350default\000'
status_all='\000\000\000\002\000\000S\000'
status_default='\000\000\000\012\000\000S\000default\000'
status_counters='\000\000\000\002\000\000S\001'
revoke='\000\000\000\011\000\000R\000\000\000\000\000\000\000\001'
reload='\000\000\000\001\000\000H'

printf "\\023$claim_nowait" > "$d/claim"
printf "\\023$claim_wait" > "$d/claim-wait"
printf "\\007$status_all" > "$d/status"
printf "\\017$status_default" > "$d/status-pool"
printf "\\007$status_counters" > "$d/status-counters"
printf "\\016$revoke" > "$d/revoke"
printf "\\006$reload" > "$d/reload"
# a header announcing 2^28 bytes, then a few of them
printf '\011\017\377\377\377\000\000xxxx' > "$d/bad-frame"
# a claim with one fd it did not announce
printf "\\223$claim_nowait" > "$d/claim-fd"
# a header that says 3 fds, and 3 fds
printf '\307\000\000\000\002\000\003S\000' > "$d/status-3fds"
# a claim cut in two writes, the daemon reading between them
printf "\\102\\000\\000\\000\\020\\016\\000\\000C\\001\\377\\377\\377\\377default\\000" > "$d/claim-split"
# two status requests in one write; a wait, then a request while waiting
printf "\\017$status_all$status_all" > "$d/status-twice"
printf "\\123$claim_wait\\007$status_all" > "$d/claim-wait-then-status"
