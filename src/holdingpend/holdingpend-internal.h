/* ISC license. */

#ifndef HOLDINGPEND_INTERNAL_H
#define HOLDINGPEND_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <skalibs/tai.h>
#include <skalibs/cdb.h>
#include <skalibs/genalloc.h>
#include <skalibs/genset.h>
#include <skalibs/gensetdyn.h>
#include <skalibs/avltreen.h>
#include <skalibs/stralloc.h>
#include <skalibs/unixmessage.h>
#include <skalibs/unixconnection.h>

#include <s6/fdholder.h>

#include <holdingpen/protocol.h>
#include "hppool.h"
#include "hpwire.h"

 /*
   The broker, file by file (doc/holdingpend-inside.html walks through it):
     holdingpend.c  options, start-up, the loop, signals, the lame duck
     client.c       connections: accept, reading, dispatch, answers, close
     rules.c        what a connection may do, from the access rules
     claim.c        claim policy and the per-pool wait queue
     lease.c        leases: grant, end, revoke, expire, the careful kill
     slot.c         slots: states, the ready lists, backoff, a lease's end, a helper's loss
     helper.c       the helper processes: spawn, messages both ways, quiet, reaping
     pool.c         pools: the one configuration path of start-up and reload
     status.c       the status records
     keep.c         leases and resources kept across restarts (-f): keeping while running
     keepid.c       the names of what is kept
     restore.c      taking back at start what a previous holdingpend kept
     timer.c        every deadline, in one tree of fixed size
     ilist.c        lists of clients or slots, by index, through links inside them
     uidcount.c     counts per uid: a pool's claims, the connections
     refusal.c      every refusal, once: its log words, answer and counter
     log.c          the transaction log, a function per event
*/

typedef struct pool_s pool, *pool_ref ;
typedef struct slot_s slot, *slot_ref ;
typedef struct client_s client, *client_ref ;
typedef struct timer_s timer, *timer_ref ;
typedef struct ilink_s ilink, *ilink_ref ;
typedef struct ilist_s ilist, *ilist_ref ;


 /* timer.c: every deadline of every client and slot is in one tree, soonest first */

struct timer_s
{
  tain when ;
  uint32_t id ;     /* client index, or TIMER_SLOT | slot index */
  unsigned int armed : 1 ;
} ;
#define TIMER_ZERO { .when = TAIN_ZERO, .id = 0, .armed = 0 }
#define TIMER_SLOT 0x80000000U
#define TIMER_KEEP 0x7fffffffU   /* the refresh of what the fd holder keeps */

extern void deadline_in_ms (tain *, uint32_t) ;
extern uint64_t secs_until (tain const *) ;
extern void timer_init (void) ;
extern int timer_room (uint32_t) ;
extern void timer_set (timer *, tain const *) ;
extern void timer_cancel (timer *) ;
extern int timer_next (tain *) ;
extern int timer_due (uint32_t *) ;


 /* ilist.c: lists of clients or slots, by index, through links inside them: O(1) to join and leave */

#define ILIST_NONE UINT32_MAX
struct ilink_s { uint32_t prev ; uint32_t next ; } ;
struct ilist_s { uint32_t head ; uint32_t tail ; uint32_t n ; } ;
#define ILIST_ZERO { .head = ILIST_NONE, .tail = ILIST_NONE, .n = 0 }
#define ILINK_ZERO { .prev = ILIST_NONE, .next = ILIST_NONE }
typedef ilink *ilink_func (uint32_t) ;
extern void ilist_append (ilist *, uint32_t, ilink_func *) ;
extern void ilist_remove (ilist *, uint32_t, ilink_func *) ;


 /* slot.c */

enum slot_state_e
{
  SLOT_DOWN,        /* no helper; respawn when its timer fires */
  SLOT_PREPARING,   /* helper reserving */
  SLOT_READY,       /* resource reserved, fd in slot->fd */
  SLOT_GRANTING,    /* ballast: helper asked to free, waiting for its answer */
  SLOT_HELD,        /* in a live lease */
  SLOT_SCRUBBING,   /* lease ended, helper emptying and reserving again */
  SLOT_FAILED,      /* helper failed for good */
  SLOT_GONE         /* removed; freed at the end of the loop turn */
} ;

struct slot_s
{
  unixconnection *helper ;  /* only while holdingpend expects a message or has one queued */
  int helperfd ;            /* the control socket; -1 without a helper */
  pool *pool ;
  client *holder ;
  ilink rlink ;             /* in its pool's ready list, or the graveyard */
  ilink tlink ;             /* in g.talking while it has a helper connection */
  timer respawn ;
  pid_t pid ;
  int fd ;
  mode_t fdmode ;           /* fd's mode, unmarked, read when it became ready (hp_resource_mark.c); 0: not known */
  uint64_t lease ;          /* the last lease granted on it, for the helper's leak reports */
  int adopt ;               /* a resource kept across a restart, for its next helper; -1 */
  char shortwhy[HOLDINGPEN_HELPER_REASON_MAX + 1] ;
  uint32_t id ;             /* number in its pool, for people */
  uint32_t index ;          /* in g.slots, for the trees */
  uint32_t keepgen ;        /* changes with kept: an answer about an older record is not about this one */
  unsigned int state ;
  unsigned int deaths ;
  unsigned int killed : 1 ;   /* its last helper died of SIGKILL: the OOM killer, maybe */
  unsigned int watched : 1 ;  /* its quiet helper socket is in the epoll set */
  unsigned int kept : 2 ;     /* SLOTKEPT_*: what the fd holder has of its resource (keep.c) */
  unsigned int named : 1 ;    /* restore.c: a kept lease names it */
  unsigned int isshort : 1 ;
  unsigned int settled : 1 ;
  unsigned int stale : 1 ;    /* made with an old configuration: remake when free */
  unsigned int retire : 1 ;   /* the pool shrank or went away: remove when free */
  unsigned int inlist : 1 ;
} ;

extern char const *const slot_state_names[] ;
extern void slot_init (void) ;
extern int slot_room (uint32_t) ;
extern slot *slot_alloc (void) ;
extern int slot_attach (pool *, slot *) ;
extern slot *slot_new (pool *) ;
extern void slot_spawn (slot *) ;
extern void slot_remove (slot *) ;
extern void slot_recycle (slot *) ;
extern void slot_remake (slot *) ;
extern int slot_hand_out (slot *) ;
extern void slot_setstate (slot *, unsigned int) ;
extern void slot_settle (slot *) ;
extern slot *slot_of_index (uint32_t) ;
extern ilink *slot_tlink (uint32_t) ;
extern void slot_ready (slot *, int) ;
extern void slot_short (slot *, char const *, size_t) ;
extern void slot_freed (slot *) ;
enum lost_e   /* why a slot's helper is gone (slot_helper_lost) */
{
  LOST_CRASH,    /* it died, or broke the protocol */
  LOST_FAILED,   /* it exited 100: failed for good */
  LOST_NOMEM     /* holdingpend could not allocate its conversation: stopped */
} ;
extern void slot_helper_lost (slot *, unsigned int) ;
extern void slot_helper_exited (slot *, int) ;
extern void slot_collect (void) ;


 /* helper.c: the conversation with the helper processes */

extern void helper_init (void) ;
extern int helper_spawn (slot *) ;
extern int helper_tell (slot *, char const *, size_t, int) ;
extern void helper_quiet (slot *) ;
extern void helper_stop (slot *) ;
extern void helper_reap (void) ;
extern void helper_read (slot *) ;
extern void helper_wake (slot *) ;
extern void helper_write (slot *) ;


 /* uidcount.c: counts per uid, a small array of the uids that have something counted */

typedef struct uidcount_s uidcount, *uidcount_ref ;
struct uidcount_s
{
  uid_t uid ;
  unsigned int n ;
  unsigned int warned : 1 ;
} ;

extern uidcount *uidcount_find (genalloc const *, uid_t) ;
extern int uidcount_inc (genalloc *, uidcount *, uid_t) ;
extern void uidcount_dec (genalloc *, uidcount *) ;


 /* pool.c */

typedef struct lastclaim_s lastclaim, *lastclaim_ref ;   /* claim.c's anti-spam: a uid's last claim on a pool */
struct lastclaim_s
{
  uid_t uid ;
  tain when ;
} ;

struct pool_s
{
  hp_poolconf conf ;
  genalloc slots ;    /* slot *, in slot order */
  ilist ready ;       /* the ready slots, oldest first, through slot->rlink */
  ilist waiters ;     /* FIFO, through client->plink */
  ilist holders ;     /* leases, through client->plink */
  genalloc peruid ;   /* uidcount: waiting, granting and held claims per uid */
  genalloc recent ;   /* lastclaim */
  uint32_t nextslotid ;
  unsigned int nslots[SLOT_GONE + 1] ;
  unsigned int nshort ;
  uint64_t leaked ;   /* bytes written into ended leases' files, freed again by the helpers */
  unsigned int removed : 1 ;
} ;

#define POOLS() genalloc_s(pool *, &g.pools)
#define NPOOLS() genalloc_len(pool *, &g.pools)
#define SLOTS(p) genalloc_s(slot *, &(p)->slots)
#define NSLOTS(p) genalloc_len(slot *, &(p)->slots)

extern pool *pool_find (char const *) ;
extern pool *pool_orphan (char const *, unsigned int, uint64_t) ;
extern slot *pool_extra_slot (pool *, uint32_t) ;
extern int pools_configure (stralloc *) ;
extern void pools_spawn_helpers (void) ;
extern int pools_reload (stralloc *) ;
extern void reload_request (client *, hp_request const *) ;
extern void pool_collect (void) ;
extern int pool_join (pool *, client *) ;
extern void pool_leave (client *) ;
extern unsigned int pool_count_uid (pool const *, uid_t) ;


 /* client.c */

enum client_state_e
{
  CLIENT_FREE,
  CLIENT_REQUEST,   /* connected, may send requests */
  CLIENT_WAITING,   /* claim queued */
  CLIENT_GRANTING,  /* ballast: waiting for the helper to free */
  CLIENT_HOLDING,   /* the connection is a lease */
  CLIENT_CLOSING    /* last answer queued; drop once flushed */
} ;

struct client_s
{
  unixmessage_sender out ;   /* answers; its fd is the connection */
  hp_inbuf *in ;             /* requests; only while the client may speak */
  char *claimre ;            /* the rules' HOLDINGPEN_CLAIM_REGEX, compiled when a claim comes */
  pool *pool ;               /* waiting, granting or holding in it */
  slot *slot ;
  ilink alink ;              /* in g.active: its fd is polled */
  ilink plink ;              /* in its pool's waiters or holders */
  timer deadline ;           /* request, wait or closing deadline; a lease's expiry or next kill */
  tain since ;               /* connected; for a lease, granted (its expiry follows: lease_expiry) */
  uint64_t lease ;
  uint64_t seq ;
  uint64_t killwall ;        /* when the careful kill started, system clock in ms; 0 if it has not */
  uint64_t sincewall ;       /* the lease's start and expiry, system clock in ms, as kept (0: never) */
  uint64_t expirewall ;
  uid_t uid ;
  gid_t gid ;
  pid_t pid ;
  int pidfd ;
  int fd ;                   /* the connection: a quiet lease has no sender, whose free forgets its fd */
  uint32_t index ;
  unsigned int state ;
  unsigned int killstep ;    /* the next signal of the careful kill, 0 to 3; 4: all sent */
  unsigned int keptstep ;    /* the step the kept pidfd record says (keep.c) */
  unsigned int quietin : 2 ; /* a new lease: turns of the loop before it goes quiet (client.c) */
  unsigned int active : 1 ;
  unsigned int watched : 1 ;   /* a quiet lease, in the epoll set */
  unsigned int pidwatched : 1 ; /* its holder's pidfd too, during a careful kill */
  unsigned int counted : 1 ;   /* in g.connperuid */
  unsigned int kept : 1 ;      /* the lease's record is in the fd holder, or on its way */
  unsigned int pidkept : 1 ;   /* its holder's pidfd too */
  unsigned int restoring : 1 ; /* restore.c: taken back, not yet holding */
  unsigned int numbered : 1 ;  /* its lease is in g.leases */
  unsigned int nowait : 1 ;    /* a claim with -n, waiting only for a slot as good as ready */
  unsigned int canstatus : 1 ;
  unsigned int canadmin : 1 ;
  unsigned int nomem : 1 ;     /* its rights or its count could not be had: its request is refused 111 */
} ;

#define CLIENT(i) (g.clients + (i))
#define client_fd(c) ((c)->fd)
#define NCLIENTS() genset_n(&g.clientset)

extern void client_init (void) ;
extern void client_accept (void) ;
extern void client_new (int) ;   /* client_accept's, and the fuzzer's entry */
extern client *client_restore (int, uid_t) ;
extern void client_close (client *) ;
extern int client_answer_room (client *, size_t, unsigned int) ;
extern int client_answer (client *, char const *, size_t, int *) ;
extern int client_reply (client *, char const *, size_t, char const *) ;
extern void client_refuse (client *, unsigned char, char const *, size_t) ;
extern void client_nomem (client *, char const *, char const *) ;
extern void client_read (client *) ;
extern void client_write (client *) ;
extern void client_timeout (client *) ;
extern void client_setstate (client *, unsigned int) ;
extern void client_poll (client *) ;
extern short client_events (client *) ;


 /* rules.c */

extern int rules_read (cdb *, stralloc *) ;
extern void rules_commit (cdb *) ;
extern int rules_apply (client *) ;
extern int rules_claim_allowed (client const *, char const *) ;


 /* refusal.c: a request refused by policy, each reason once */

enum refused_e   /* the counters: HOLDINGPEN_COUNTERS_REFUSED are their keys, in this order */
{
  REFUSED_DENIED,
  REFUSED_NOPOOL,
  REFUSED_TOOSOON,
  REFUSED_LIMIT,
  REFUSED_BUSY,
  REFUSED_TIMEOUT,
  REFUSED_N
} ;

enum refusal_e
{
  REFUSAL_RULES,     /* the access rules do not allow the claim */
  REFUSAL_HOLDER,    /* who connected cannot be proven */
  REFUSAL_STATUS,    /* a status without the right to it */
  REFUSAL_ADMIN,     /* a revoke or a reload without the right to it */
  REFUSAL_NOPOOL,
  REFUSAL_REMOVED,   /* a reload removed the pool of a waiting claim */
  REFUSAL_TOOSOON,
  REFUSAL_LIMIT,
  REFUSAL_BUSY,
  REFUSAL_TIMEOUT,   /* a waiting claim's deadline */
  REFUSAL_N
} ;

typedef struct refusal_s refusal, *refusal_ref ;
struct refusal_s
{
  char const *event ;       /* the log line's event= */
  char const *reason ;      /* and its reason=; 0: the event says it all */
  unsigned char answer ;    /* the answer's code */
  unsigned char counter ;   /* REFUSED_*: several reasons may share one */
} ;

extern refusal const refusals[REFUSAL_N] ;
extern char const *const refused_keys[] ;   /* REFUSED_N of them */
extern void refuse (client *, char const *, unsigned int, char const *, size_t) ;


 /* claim.c */

extern void claim_request (client *, hp_request const *) ;
extern void claim_dispatch (pool *) ;
extern void claim_timeout (client *) ;
extern int claim_record_room (pool *, uid_t) ;
extern void claim_record (pool *, uid_t) ;


 /* lease.c */

enum lease_event_e
{
  LEASE_GRANT,
  LEASE_RELEASE,    /* its holder closed it */
  LEASE_END,        /* the broker ended it, after the careful kill */
  LEASE_EXPIRE,     /* the careful kill starts: the pool's expire */
  LEASE_REVOKE,     /* the careful kill starts: an administrator's revoke */
  LEASE_RESTORED    /* taken back at a restart, held again */
} ;

#define LEASES_FIRST 16   /* the lease tree's first size: it doubles as leases come */

extern void lease_init (void) ;
extern int lease_tree_room (void) ;
extern int lease_expiry (client const *, tain *) ;
extern client *lease_find (uint64_t) ;
extern int lease_number (client *, uint64_t) ;
extern void lease_unnumber (client *) ;
extern int lease_grant (client *, slot *) ;
extern void lease_answer (client *, slot *) ;
extern void lease_end (client *, unsigned int) ;
extern void lease_revoke (client *, hp_request const *) ;
extern void lease_timer (client *) ;
extern void lease_holder_gone (client *) ;
extern void lease_restore (client *) ;


 /* keep.c: keeping in the fd holder, never waiting for it */

enum slotkept_e
{
  SLOTKEPT_NONE,
  SLOTKEPT_READY,     /* its record as a ready slot */
  SLOTKEPT_HELD,      /* its record as its lease's resource */
  SLOTKEPT_LEAVING    /* its ready record's deletion is queued, not yet in the socket */
} ;

enum keeper_state_e
{
  KEEPER_DOWN,        /* not connected: nothing is kept; connecting again soon */
  KEEPER_SYNC,        /* connected again: what the fd holder has of ours is being listed */
  KEEPER_UP
} ;

typedef struct keeper_s keeper, *keeper_ref ;
struct keeper_s
{
  unixconnection conn ;
  genalloc ops ;             /* what each awaited answer is for, oldest at ophead */
  size_t ophead ;
  uint32_t cursor ;          /* how far the pass is: slots by index, then clients, then the socket */
  unsigned int state ;
  unsigned int passing : 1 ;
  unsigned int warned : 1 ;
  unsigned int stalled : 1 ;
  unsigned int untrusted : 1 ;
  unsigned int listenkept : 1 ;
} ;
#define KEEPER_ZERO { .conn = UNIXCONNECTION_ZERO, .ops = GENALLOC_ZERO, .ophead = 0, .cursor = 0, .state = KEEPER_DOWN, .passing = 0, .warned = 0, .stalled = 0, .untrusted = 0, .listenkept = 0 }
#define KEEP_STEP_FROM_TIME UINT32_MAX   /* restore.c: a lease of 0.2, whose kill steps follow from the time */

extern void keep_init (void) ;
extern void keep_slot (slot *) ;
extern void keep_slot_drop (slot *) ;
extern int keep_grantable (slot *) ;
extern void keep_lease (client *) ;
extern void keep_lease_drop (client *) ;
extern void keep_lease_kill (client *, unsigned int) ;
extern void keep_io (short) ;
extern short keep_events (void) ;
extern int keep_fd (void) ;
extern int keep_connect (void) ;
extern void keep_adopt (int, unsigned int) ;
extern void keep_disconnected (void) ;
extern void keep_pass_later (void) ;
extern void keep_timer (void) ;
extern void keep_exit (void) ;
extern void keep_listen (void) ;


 /* keepid.c */

#define KEEPID_SIZE (S6_FDHOLDER_ID_SIZE + 1)
#define KEEPID_READY "holdingpen/slot/"
#define KEEPID_HELD "holdingpen/held/"
#define KEEPID_LEASE "holdingpen/lease/"
#define KEEPID_PIDFD "holdingpen/pidfd/"
#define KEEPID_LISTEN HP_LISTEN_ID
extern void keepid_ready (char *, slot const *) ;
extern void keepid_held (char *, slot const *, uint64_t) ;
extern void keepid_lease (char *, client const *) ;
extern void keepid_pidfd (char *, uint64_t, uint64_t, unsigned int) ;
extern int keepid_listen (char *) ;
extern int keepid_numbers (char const *, uint64_t *, unsigned int) ;
extern char const *keepid_pool (char const *, char *) ;
extern int keepid_matches (slot const *, uint64_t const *) ;


 /* restore.c */

extern void keep_restore (void) ;


 /* The epoll set of quiet things (g.epfd, read by holdingpend.c): what an event's u32 says */

#define WATCH_PIDFD 0x80000000U   /* in an epoll event: the holder's pidfd, not its connection */
#define WATCH_HELPER 0x40000000U  /* in an epoll event: a quiet helper's socket, by slot index */


 /* status.c */

extern void status_request (client *, hp_request const *) ;


 /* log.c */

extern void log_client (char const *, client const *, char const *, char const *) ;
extern void log_slot (char const *, slot const *) ;
extern void log_short_slot (slot const *) ;
extern void log_leak (slot const *, uint64_t, uint64_t) ;
extern void log_helper_death (slot const *, int, int) ;
extern void log_refusal (client const *, char const *, unsigned int) ;
extern void log_lease (unsigned int, client const *) ;
extern void log_kill (client const *, int, int, int) ;
extern void log_kill_refused (client const *, int, uid_t const *) ;
extern void log_wait (client const *) ;
extern void log_count (char const *, char const *, uint64_t) ;
extern void log_reload_refused (stralloc *) ;
extern void log_start (char const *) ;
extern void log_restore (unsigned int, unsigned int, unsigned int) ;
extern void log_short_pools (void) ;
extern void log_init (void) ;
extern void log_flush (void) ;
extern void log_nomem (char const *, client const *, char const *) ;


 /* holdingpend.c: the one global, as tipidee has; its counters are status.c's counters= record */

typedef struct counters_s counters, *counters_ref ;
struct counters_s
{
  uint64_t granted ;
  uint64_t refused[REFUSED_N] ;
  uint64_t expired ;
  uint64_t revoked ;
  uint64_t signals ;
  uint64_t helpercrashes ;
  uint64_t reloads ;
  uint64_t reloadfailures ;
} ;
#define COUNTERS_ZERO { .granted = 0, .refused = { 0 }, .expired = 0, .revoked = 0, .signals = 0, .helpercrashes = 0, .reloads = 0, .reloadfailures = 0 }

struct global_s
{
  char const *helper ;
  char const *pooldir ;
  char const *rules ;
  unsigned int rulestype ;   /* 0 none, 1 dir, 2 cdb */
  cdb rulescdb ;
  genalloc pools ;           /* pool *, in configuration order */
  gensetdyn slots ;          /* slot *, by slot->index */
  ilist graveyard ;          /* slots to free at the end of the loop turn, through slot->rlink */
  ilist talking ;            /* slots whose helper socket is polled, through slot->tlink */
  client *clients ;          /* maxconn of them, mapped: untouched pages cost nothing */
  genset clientset ;
  uint32_t *clientfree ;
  ilist active ;             /* clients whose fd is polled, through client->alink */
  avltreen timers ;          /* sized for every timer there can be (timer_room) */
  avltreen helpers ;         /* slot index by helper pid, sized for every slot */
  avltreen leases ;          /* client index by lease id, sized for every client */
  genalloc connperuid ;      /* uidcount: connections per uid */
  char const *keeppath ;     /* -f: the fd holder that keeps leases and resources across restarts */
  unsigned int keepsecs ;    /* -F: how long they are kept without a holdingpend */
  timer keeptimer ;          /* the keeper's: connecting again, a pass going on, the next pass */
  keeper keeper ;
  unsigned int maxperuid ;
  unsigned int reserve ;     /* the last connections, for clients with the admin right */
  genalloc x ;               /* iopause_fd */
  genalloc xwho ;            /* uint32_t: what each iopause_fd is */
  tain answertto ;
  tain start ;
  counters count ;
  uint64_t nextlease ;
  uint64_t nextseq ;
  unsigned int maxconn ;
  unsigned int unsettled ;   /* slots not yet ready or failed for good */
  tain readydeadline ;       /* -r: readiness is written by then, slots short or not */
  tain lameduck ;            /* after SIGTERM: answers already queued may leave until then */
  tain trimat ;              /* a second after the last connection went: the heap's holes go back then */
  unsigned int acceptblocked : 1 ;
  unsigned int fullwarned : 1 ;
  unsigned int exiting : 1 ;
  unsigned int trimwanted : 1 ;
  unsigned int verbosity ;
  int notif ;
  int spfd ;
  int epfd ;                 /* the quiet leases, one fd in the iopause set */
  uid_t myuid ;
  char const *const *envp ;
} ;

#define GLOBAL_ZERO \
{ \
  .helper = 0, .pooldir = 0, .rules = 0, .rulestype = 0, .rulescdb = CDB_ZERO, \
  .pools = GENALLOC_ZERO, .slots = GENSETDYN_ZERO, .graveyard = ILIST_ZERO, .talking = ILIST_ZERO, \
  .clients = 0, .clientset = GENSET_ZERO, .clientfree = 0, .active = ILIST_ZERO, \
  .timers = AVLTREEN_ZERO, .helpers = AVLTREEN_ZERO, .leases = AVLTREEN_ZERO, \
  .connperuid = GENALLOC_ZERO, .keeppath = 0, .keepsecs = 0, .keeptimer = TIMER_ZERO, .keeper = KEEPER_ZERO, \
  .maxperuid = 0, .reserve = 0, .x = GENALLOC_ZERO, .xwho = GENALLOC_ZERO, \
  .answertto = TAIN_ZERO, .start = TAIN_ZERO, .count = COUNTERS_ZERO, .nextlease = 0, .nextseq = 0, \
  .maxconn = 0, .unsettled = 0, .readydeadline = TAIN_ZERO, .lameduck = TAIN_ZERO, .trimat = TAIN_ZERO, \
  .acceptblocked = 0, .fullwarned = 0, .exiting = 0, .trimwanted = 0, .verbosity = 1, \
  .notif = -1, .spfd = -1, .epfd = -1, .myuid = 0, .envp = 0 \
}

extern struct global_s g ;
extern int loop_room (uint32_t) ;

#endif
