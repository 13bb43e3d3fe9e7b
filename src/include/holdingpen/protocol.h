/* ISC license. */

#ifndef HOLDINGPEN_PROTOCOL_H
#define HOLDINGPEN_PROTOCOL_H

 /*
   Everything that travels on a wire, in one place: between a client and
   holdingpend, and between holdingpend and its helpers. doc/protocol.html
   is the prose for this file. Messages are skalibs unixmessages: a
   payload and zero or more fds. Numbers are big-endian.
 */


 /* Limits */

#define HOLDINGPEN_REQUEST_MAX 4096     /* largest request payload a server reads */
#define HOLDINGPEN_POOLNAME_MAX 64
#define HOLDINGPEN_KIND_MAX 15
#define HOLDINGPEN_SLOTS_MAX 4096


 /* Requests: the first byte of a client's message says what it is. */

#define HOLDINGPEN_OP_CLAIM 'C'
#define HOLDINGPEN_OP_STATUS 'S'
#define HOLDINGPEN_OP_REVOKE 'R'
#define HOLDINGPEN_OP_RELOAD 'H'

 /* C flags:u8 millisecs:u32 pool:string */
#define HOLDINGPEN_CLAIM_FLAGS 1
#define HOLDINGPEN_CLAIM_MILLISECS 2
#define HOLDINGPEN_CLAIM_POOL 6
#define HOLDINGPEN_CLAIM_NOWAIT 0x01
#define HOLDINGPEN_FOREVER 0xffffffffU

 /*
   S flags:u8 pool:string... (none: every pool). Flags 0 gets 0.1's
   records (pool=, lease=, waiter=); each bit asks for one more kind of
   record. A server ignores the bits it does not know; servers 0.1 and
   0.2 refuse any bit (answer 100): a client that set one asks again
   with 0 (doc/protocol.html, "Compatibility").
 */
#define HOLDINGPEN_STATUS_FLAGS 1
#define HOLDINGPEN_STATUS_POOLS 2
#define HOLDINGPEN_STATUS_ALL 0x00        /* nothing more than 0.1's records */
#define HOLDINGPEN_STATUS_COUNTERS 0x01   /* and the counters= record, last */

 /* R lease:u64 */
#define HOLDINGPEN_REVOKE_LEASE 1
#define HOLDINGPEN_REVOKE_LEN 9

 /* H, alone */
#define HOLDINGPEN_RELOAD_LEN 1


 /* Answers: the first byte is the code, also holdingpen-claim's exit code. */

#define HOLDINGPEN_OK 0
#define HOLDINGPEN_DENIED 1
#define HOLDINGPEN_NOENT 2
#define HOLDINGPEN_TOOSOON 3
#define HOLDINGPEN_LIMIT 4
#define HOLDINGPEN_BUSY 5
#define HOLDINGPEN_BADCONFIG 6
#define HOLDINGPEN_TIMEOUT 99
#define HOLDINGPEN_BADREQUEST 100
#define HOLDINGPEN_SERVERFAIL 111

 /* a granted claim: 0 lease:u64 size:u64 kind:string, and the resource fd unless ballast */
#define HOLDINGPEN_GRANT_LEASE 1
#define HOLDINGPEN_GRANT_SIZE 9
#define HOLDINGPEN_GRANT_KIND 17

 /* too soon: 3 wait:u32, the seconds until the claim may come */
#define HOLDINGPEN_TOOSOON_WAIT 1
#define HOLDINGPEN_TOOSOON_LEN 5

 /* status: 0 then key=value records, one per line */

 /*
   The keys of the counters= record that count refused requests, in the
   record's order: holdingpend counts under them, and holdingpen-status
   -m makes its reason labels of them.
 */
#define HOLDINGPEN_COUNTERS_REFUSED "denied", "nopool", "toosoon", "limit", "busy", "timeout"


 /*
   Between holdingpend and a helper (fd 1 of the helper). The first byte
   says what a message is. The helper says r, s, l or x; holdingpend
   says g, e or q. Older peers sent s and e alone: both forms are valid.
   A helper sends s with its reason, and l, only when started with -R:
   holdingpend says so when it reads them, and an older holdingpend,
   still running while a newer helper is installed, gets what it knows.
 */

#define HOLDINGPEN_HELPER_READY 'r'     /* reserved; the resource fd goes along unless ballast */
#define HOLDINGPEN_HELPER_FREED 'x'     /* ballast given back, answer to g */
#define HOLDINGPEN_HELPER_GIVE 'g'      /* ballast: free the reservation, a claim is granted */

 /* s reason:string: not reservable now, retrying with backoff; s alone: reason unknown */
#define HOLDINGPEN_HELPER_SHORT 's'
#define HOLDINGPEN_HELPER_SHORT_REASON 1
#define HOLDINGPEN_HELPER_REASON_MAX 15   /* a word of [a-z], without a terminating zero */
#define HOLDINGPEN_SHORT_MEMAVAILABLE "memavailable"  /* MemAvailable would drop below the margin */
#define HOLDINGPEN_SHORT_CGROUP "cgroup"              /* a memory cgroup limit would be reached */
#define HOLDINGPEN_SHORT_HUGEPAGES "hugepages"        /* not enough free hugepages */
#define HOLDINGPEN_SHORT_NOSPACE "nospace"            /* the filesystem is full (ENOSPC) */
#define HOLDINGPEN_SHORT_QUOTA "quota"                /* over a disk quota (EDQUOT) */
#define HOLDINGPEN_SHORT_NOMEM "nomem"                /* the kernel said ENOMEM */
#define HOLDINGPEN_SHORT_BUSY "busy"                  /* EAGAIN or EBUSY */
#define HOLDINGPEN_SHORT_NODIR "nodir"                /* dir, or a directory above it, does not exist (yet) */
#define HOLDINGPEN_SHORT_UNSAFEDIR "unsafedir"        /* dir's path has a symlink, or a component others can write to */

 /* e lease:u64: the lease ended, scrub, then reserve again; e alone: lease unknown (0) */
#define HOLDINGPEN_HELPER_EMPTY 'e'
#define HOLDINGPEN_HELPER_EMPTY_LEASE 1
#define HOLDINGPEN_HELPER_EMPTY_LEN 9

 /*
   q lease:u64, as e: the lease ended on a slot a reload changed or
   removed; scrub, then exit 0 instead of reserving again. The exit is
   the answer.
 */
#define HOLDINGPEN_HELPER_QUIT 'q'

 /*
   l lease:u64 bytes:u64: after lease ended, someone who kept a copy of
   its file fd wrote bytes into it; the helper has freed them again.
 */
#define HOLDINGPEN_HELPER_LEAK 'l'
#define HOLDINGPEN_HELPER_LEAK_LEASE 1
#define HOLDINGPEN_HELPER_LEAK_BYTES 9
#define HOLDINGPEN_HELPER_LEAK_LEN 17

 /*
   Leases that outlive the broker (holdingpend -f): a helper started with
   -A waits for one of these before it reserves anything, and a helper
   started with -P sends its resource fd with r for every kind, ballast
   included, so that holdingpend can keep it in the fd holder.
*/
#define HOLDINGPEN_HELPER_ADOPT 'a'       /* a + fd: the slot's resource, kept across a restart: check it, then answer r with it */
#define HOLDINGPEN_HELPER_ADOPT_HELD 'h'  /* h + fd: the resource of a slot still held: keep it, answer nothing, scrub it at e */

#endif
