/* ISC license. */

#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <fcntl.h>

#include <skalibs/types.h>
#include <skalibs/uint32.h>
#include <skalibs/uint64.h>
#include <skalibs/sgetopt.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/error.h>
#include <skalibs/alloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/env.h>
#include <skalibs/bytestr.h>
#include <skalibs/sig.h>
#include <skalibs/selfpipe.h>
#include <skalibs/tai.h>
#include <skalibs/iopause.h>
#include <skalibs/djbunix.h>
#include <skalibs/socket.h>
#include <skalibs/cdb.h>
#include <skalibs/unixmessage.h>
#include <skalibs/unixconnection.h>

#include <s6/accessrules.h>

#include <holdingpen/config.h>
#include <holdingpen/holdingpen.h>
#include "hppool.h"
#include "hpwire.h"

#define USAGE "holdingpend [ -v verbosity ] [ -1 | -d notif ] [ -c maxconn ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ] [ -p pooldir ] [ -H helper ]"
#define dieusage() strerr_dieusage(100, USAGE)

#define MAXCONN_DEFAULT 256
#define MAXCONN_MAX 4096
#define RESPAWN_MAX_MS 30000

 /*
   The broker. Every slot of every pool has a helper process that owns
   the resource; holdingpend only passes the helper's fd on to a client
   and watches the client's connection, which is the lease. Nothing here
   ever blocks: helpers and clients are all non-blocking sockets in one
   iopause loop, and a client that misbehaves is answered and dropped.
 */

typedef struct pool_s pool, *pool_ref ;
typedef struct slot_s slot, *slot_ref ;
typedef struct client_s client, *client_ref ;

enum slot_state_e
{
  SLOT_DOWN,        /* no helper; respawn at slot->respawn */
  SLOT_PREPARING,   /* helper reserving */
  SLOT_READY,       /* resource reserved, fd in slot->fd */
  SLOT_GRANTING,    /* ballast: helper asked to free, waiting for its 'x' */
  SLOT_HELD,        /* in a live lease */
  SLOT_SCRUBBING,   /* lease ended, helper emptying and reserving again */
  SLOT_FAILED,      /* helper failed for good */
  SLOT_GONE         /* removed; freed at the end of the loop turn */
} ;

static char const *const slot_state_names[] = { "down", "preparing", "ready", "granting", "held", "scrubbing", "failed", "gone" } ;

struct slot_s
{
  unixconnection helper ;
  pool *pool ;
  client *holder ;
  tain respawn ;
  pid_t pid ;
  int fd ;
  uint32_t id ;
  unsigned int state ;
  unsigned int deaths ;
  unsigned int xindex ;
  unsigned int isshort : 1 ;
  unsigned int settled : 1 ;
  unsigned int stale : 1 ;    /* made with an old configuration: remake when free */
  unsigned int retire : 1 ;   /* the pool shrank or went away: remove when free */
} ;

typedef struct lastclaim_s lastclaim, *lastclaim_ref ;
struct lastclaim_s
{
  uid_t uid ;
  tain when ;
} ;

struct pool_s
{
  hp_poolconf conf ;
  genalloc slots ;    /* slot * */
  genalloc recent ;   /* lastclaim */
  uint32_t nextslotid ;
  unsigned int removed : 1 ;
} ;

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
  unixconnection conn ;
  regex_t claimre ;
  tain deadline ;
  tain since ;
  tain expire ;
  tain killnext ;
  uint64_t seq ;
  uint64_t lease ;
  pool *pool ;
  slot *slot ;
  uid_t uid ;
  gid_t gid ;
  pid_t pid ;
  int pidfd ;
  unsigned int state ;
  unsigned int xindex ;
  unsigned int killstep ;
  unsigned int hasre : 1 ;
  unsigned int canstatus : 1 ;
  unsigned int canadmin : 1 ;
} ;

typedef struct hpd_s hpd, *hpd_ref ;
struct hpd_s
{
  char const *helper ;
  char const *pooldir ;
  char const *rules ;
  unsigned int rulestype ;   /* 0 none, 1 dir, 2 cdb */
  cdb rulescdb ;
  genalloc pools ;           /* pool * */
  client *clients ;
  unsigned int maxconn ;
  unsigned int nclients ;
  genalloc x ;               /* iopause_fd */
  tain answertto ;
  uint64_t nextlease ;
  uint64_t nextseq ;
  unsigned int verbosity ;
  int notif ;
  int spfd ;
  uid_t myuid ;
  char const *const *envp ;
} ;

#define POOLS(d) genalloc_s(pool *, &(d)->pools)
#define NPOOLS(d) genalloc_len(pool *, &(d)->pools)
#define SLOTS(p) genalloc_s(slot *, &(p)->slots)
#define NSLOTS(p) genalloc_len(slot *, &(p)->slots)


 /* The transaction log: one line per event, key=value words, for s6-log. */

typedef struct logline_s logline, *logline_ref ;
struct logline_s
{
  char s[1024] ;
  size_t len ;
} ;

static void log_cat (logline *l, char const *s)
{
  size_t n = strlen(s) ;
  if (n > sizeof(l->s) - 2 - l->len) n = sizeof(l->s) - 2 - l->len ;
  memcpy(l->s + l->len, s, n) ;
  l->len += n ;
}

static void log_start (logline *l, char const *event)
{
  l->len = 0 ;
  log_cat(l, PROG) ;
  log_cat(l, ": info: event=") ;
  log_cat(l, event) ;
}

static void log_str (logline *l, char const *key, char const *val)
{
  log_cat(l, " ") ;
  log_cat(l, key) ;
  log_cat(l, "=") ;
  log_cat(l, val) ;
}

static void log_u64 (logline *l, char const *key, uint64_t val)
{
  char fmt[UINT64_FMT] ;
  fmt[uint64_fmt(fmt, val)] = 0 ;
  log_str(l, key, fmt) ;
}

static void log_end (hpd const *d, logline *l)
{
  if (!d->verbosity) return ;
  l->s[l->len++] = '\n' ;
  buffer_putflush(buffer_2, l->s, l->len) ;
}

static void log_who (logline *l, client const *c)
{
  log_u64(l, "uid", c->uid) ;
  log_u64(l, "gid", c->gid) ;
  log_u64(l, "pid", c->pid) ;
}

static void log_slot (hpd const *d, char const *event, slot const *s)
{
  logline l ;
  log_start(&l, event) ;
  log_str(&l, "pool", s->pool->conf.name) ;
  log_u64(&l, "slot", s->id) ;
  if (s->pid) log_u64(&l, "helper", s->pid) ;
  log_end(d, &l) ;
}


 /* Helpers */

static void helper_close (slot *s)
{
  if (unixmessage_sender_fd(&s->helper.out) >= 0)
  {
    fd_close(unixmessage_sender_fd(&s->helper.out)) ;
    unixconnection_free(&s->helper) ;
    s->helper = unixconnection_zero ;
  }
}

 /* The helper exits on EOF; TERM is for one busy reserving a big region. */
static void helper_stop (slot *s)
{
  helper_close(s) ;
  if (s->pid > 0) kill(s->pid, SIGTERM) ;
  s->pid = 0 ;
}

static void slot_drop_fd (slot *s)
{
  if (s->fd >= 0)
  {
    fd_close(s->fd) ;
    s->fd = -1 ;
  }
}

static void slot_schedule_respawn (slot *s)
{
  tain delay ;
  unsigned int ms = 0 ;
  if (s->deaths > 1)
  {
    ms = 100U << (s->deaths > 10 ? 10 : s->deaths - 2) ;
    if (ms > RESPAWN_MAX_MS) ms = RESPAWN_MAX_MS ;
  }
  tain_from_millisecs(&delay, ms) ;
  tain_add_g(&s->respawn, &delay) ;
  s->state = SLOT_DOWN ;
}

static void slot_spawn (hpd *d, slot *s)
{
  hp_poolconf const *conf = &s->pool->conf ;
  char const *argv[10] ;
  char fmt[UINT64_FMT] ;
  unsigned int m = 0 ;
  int fd ;
  pid_t pid ;
  fmt[uint64_fmt(fmt, conf->size)] = 0 ;
  argv[m++] = d->helper ;
  if (conf->lock) argv[m++] = "-l" ;
  if (conf->dir[0]) { argv[m++] = "-D" ; argv[m++] = conf->dir ; }
  argv[m++] = "-p" ;
  argv[m++] = conf->name ;
  argv[m++] = hp_kind_names[conf->kind] ;
  argv[m++] = fmt ;
  argv[m++] = 0 ;
  pid = child_spawn1_socket(d->helper, argv, d->envp, &fd) ;
  if (!pid)
  {
    strerr_warnwu2sys("spawn ", d->helper) ;
    s->deaths++ ;
    slot_schedule_respawn(s) ;
    return ;
  }
  if (ndelay_on(fd) < 0) strerr_diefu1sys(111, "make a helper socket non-blocking") ;
  unixconnection_init(&s->helper, fd, fd) ;
  s->pid = pid ;
  s->state = SLOT_PREPARING ;
  s->stale = 0 ;
  log_slot(d, "helper-spawn", s) ;
}

static int helper_send (slot *s, char c)
{
  unixmessage m = { .s = &c, .len = 1, .fds = 0, .nfds = 0 } ;
  if (!unixmessage_put(&s->helper.out, &m)) return 0 ;
  if (!unixmessage_sender_flush(&s->helper.out) && !error_isagain(errno)) return 0 ;
  return 1 ;
}

static slot *slot_new (pool *p)
{
  slot *s = alloc(sizeof(slot)) ;
  if (!s) return 0 ;
  memset(s, 0, sizeof(slot)) ;
  s->helper = unixconnection_zero ;
  s->pool = p ;
  s->fd = -1 ;
  s->id = p->nextslotid++ ;
  s->state = SLOT_DOWN ;
  tain_copynow(&s->respawn) ;
  if (!genalloc_append(slot *, &p->slots, &s))
  {
    alloc_free(s) ;
    return 0 ;
  }
  return s ;
}

static void slot_remove (slot *s)
{
  helper_stop(s) ;
  slot_drop_fd(s) ;
  s->holder = 0 ;
  s->state = SLOT_GONE ;
  s->settled = 1 ;
}


static pool *pool_new (hpd *d, hp_poolconf const *conf)
{
  pool *p = alloc(sizeof(pool)) ;
  if (!p) return 0 ;
  memset(p, 0, sizeof(pool)) ;
  p->conf = *conf ;
  p->slots = genalloc_zero ;
  p->recent = genalloc_zero ;
  for (uint32_t i = 0 ; i < conf->count ; i++)
    if (!slot_new(p)) strerr_diefu1sys(111, "allocate a slot") ;
  if (!genalloc_append(pool *, &d->pools, &p)) strerr_diefu1sys(111, "allocate a pool") ;
  return p ;
}

static void pool_free (pool *p)
{
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
  {
    slot_remove(SLOTS(p)[i]) ;
    alloc_free(SLOTS(p)[i]) ;
  }
  genalloc_free(slot *, &p->slots) ;
  genalloc_free(lastclaim, &p->recent) ;
  alloc_free(p) ;
}

 /*
   Slots and pools are only freed here, at the end of a loop turn, so
   that nothing that runs during the turn holds a dangling pointer.
 */
static void collect (hpd *d)
{
  size_t k = 0 ;
  for (size_t i = 0 ; i < NPOOLS(d) ; i++)
  {
    pool *p = POOLS(d)[i] ;
    size_t j = 0 ;
    for (size_t n = 0 ; n < NSLOTS(p) ; n++)
    {
      slot *s = SLOTS(p)[n] ;
      if (s->state == SLOT_GONE) alloc_free(s) ;
      else SLOTS(p)[j++] = s ;
    }
    genalloc_setlen(slot *, &p->slots, j) ;
    if (p->removed && !j) pool_free(p) ;
    else POOLS(d)[k++] = p ;
  }
  genalloc_setlen(pool *, &d->pools, k) ;
}

static pool *pool_find (hpd *d, char const *name)
{
  for (size_t i = 0 ; i < NPOOLS(d) ; i++)
    if (!strcmp(POOLS(d)[i]->conf.name, name)) return POOLS(d)[i] ;
  return 0 ;
}

static int poolconf_same_resource (hp_poolconf const *a, hp_poolconf const *b)
{
  return a->kind == b->kind && a->size == b->size && a->lock == b->lock && !strcmp(a->dir, b->dir) ;
}


 /* Clients */

static void client_close (hpd *d, client *c)
{
  if (c->pidfd > 0) fd_close(c->pidfd) ;
  fd_close(unixmessage_sender_fd(&c->conn.out)) ;
  unixconnection_free(&c->conn) ;
  if (c->hasre) regfree(&c->claimre) ;
  memset(c, 0, sizeof(client)) ;
  c->state = CLIENT_FREE ;
  d->nclients-- ;
}

 /*
   0 only if the answer could not be queued: then a passed fd is still the
   caller's. Once queued, the fd belongs to the sender, which closes it;
   a write error shows again at the next flush, and the loop drops the
   client then.
 */
static int client_answer (client *c, char const *s, size_t len, int *fd)
{
  unixmessage m = { .s = (char *)s, .len = len, .fds = fd, .nfds = !!fd } ;
  if (!unixmessage_put_and_close(&c->conn.out, &m, fd ? unixmessage_bits_closeall : unixmessage_bits_closenone)) return 0 ;
  unixmessage_sender_flush(&c->conn.out) ;
  return 1 ;
}

 /* A refusal ends the conversation: answer, then drop once flushed. */
static void client_refuse (hpd *d, client *c, unsigned char code, char const *extra, size_t extralen)
{
  char buf[1 + extralen] ;
  c->pool = 0 ;
  c->slot = 0 ;
  buf[0] = (char)code ;
  if (extralen) memcpy(buf + 1, extra, extralen) ;
   /* mostly the answer fits in the socket buffer at once: then close now */
  if (!client_answer(c, buf, 1 + extralen, 0) || unixmessage_sender_isempty(&c->conn.out))
  {
    client_close(d, c) ;
    return ;
  }
  c->state = CLIENT_CLOSING ;
  tain_addsec_g(&c->deadline, 2) ;
}

 /* A refusal by policy: logged with who and why, then answered. */
static void deny (hpd *d, client *c, char const *poolname, char const *reason, unsigned char code, char const *extra, size_t extralen)
{
  logline l ;
  log_start(&l, "deny") ;
  if (poolname) log_str(&l, "pool", poolname) ;
  log_who(&l, c) ;
  log_str(&l, "reason", reason) ;
  log_end(d, &l) ;
  client_refuse(d, c, code, extra, extralen) ;
}

static unsigned int pool_count_uid (hpd const *d, pool const *p, uid_t uid)
{
  unsigned int n = 0 ;
  for (unsigned int i = 0 ; i < d->maxconn ; i++)
  {
    client const *c = d->clients + i ;
    if (c->pool == p && c->uid == uid
     && (c->state == CLIENT_WAITING || c->state == CLIENT_GRANTING || c->state == CLIENT_HOLDING)) n++ ;
  }
  return n ;
}

static lastclaim *pool_lastclaim (pool *p, uid_t uid)
{
  lastclaim *r = genalloc_s(lastclaim, &p->recent) ;
  size_t n = genalloc_len(lastclaim, &p->recent) ;
  for (size_t i = 0 ; i < n ; i++) if (r[i].uid == uid) return r + i ;
  return 0 ;
}

 /* Forget claims older than ifelapsed, so that the table stays as small as the set of recent claimers. */
static void pool_prune_recent (pool *p)
{
  lastclaim *r = genalloc_s(lastclaim, &p->recent) ;
  size_t n = genalloc_len(lastclaim, &p->recent) ;
  size_t j = 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    tain until ;
    tain_addsec(&until, &r[i].when, p->conf.ifelapsed) ;
    if (tain_future(&until)) r[j++] = r[i] ;
  }
  genalloc_setlen(lastclaim, &p->recent, j) ;
}

/* Whole seconds from now until t; 0 if t has passed. */
static uint64_t secs_until (tain const *t)
{
  tain left ;
  if (!tain_less(&STAMP, t)) return 0 ;
  tain_sub(&left, t, &STAMP) ;
  return tai_sec(tain_secp(&left)) ;
}

/* Seconds this uid must still wait before claiming from p again; 0 if none. */
static uint32_t pool_toosoon (pool *p, uid_t uid)
{
  lastclaim *lc ;
  tain until ;
  if (!p->conf.ifelapsed) return 0 ;
  pool_prune_recent(p) ;
  lc = pool_lastclaim(p, uid) ;
  if (!lc) return 0 ;
  tain_addsec(&until, &lc->when, p->conf.ifelapsed) ;
   /* rounded up: waiting the whole seconds said is always enough */
  return (uint32_t)secs_until(&until) + 1 ;
}

static void refuse_toosoon (hpd *d, client *c, char const *poolname, uint32_t wait)
{
  char pack[4] ;
  uint32_pack_big(pack, wait) ;
  deny(d, c, poolname, "toosoon", HOLDINGPEN_TOOSOON, pack, 4) ;
}

static void lease_start (hpd *d, client *c, slot *s)
{
  logline l ;
  pool *p = s->pool ;
  c->state = CLIENT_HOLDING ;
  s->state = SLOT_HELD ;
  tain_copynow(&c->since) ;
  if (p->conf.expire) tain_addsec_g(&c->expire, p->conf.expire) ;
  else c->expire = tain_infinite ;
  c->killstep = 0 ;
  if (p->conf.ifelapsed)
  {
    lastclaim *lc = pool_lastclaim(p, c->uid) ;
    if (lc) tain_copynow(&lc->when) ;
    else
    {
      lastclaim nl = { .uid = c->uid } ;
      tain_copynow(&nl.when) ;
      if (!genalloc_append(lastclaim, &p->recent, &nl)) strerr_diefu1sys(111, "record a claim") ;
    }
  }
  log_start(&l, "grant") ;
  log_str(&l, "pool", p->conf.name) ;
  log_u64(&l, "slot", s->id) ;
  log_u64(&l, "lease", c->lease) ;
  log_who(&l, c) ;
  log_end(d, &l) ;
}

static void grant_answer (hpd *d, client *c, slot *s)
{
  hp_poolconf const *conf = &s->pool->conf ;
  char const *kind = hp_kind_names[conf->kind] ;
  size_t kindlen = strlen(kind) ;
  char buf[18 + kindlen] ;
  int fd = s->fd ;
  buf[0] = HOLDINGPEN_OK ;
  uint64_pack_big(buf + 1, c->lease) ;
  uint64_pack_big(buf + 9, conf->size) ;
  memcpy(buf + 17, kind, kindlen + 1) ;
   /* the daemon's copy goes with the message: from now on only the helper and the holder have it */
  s->fd = -1 ;
  if (!client_answer(c, buf, 18 + kindlen, fd >= 0 ? &fd : 0))
  {
    if (fd >= 0) fd_close(fd) ;
    strerr_warnwu1sys("answer a claim") ;
  }
  lease_start(d, c, s) ;
}

static void grant (hpd *d, client *c, slot *s)
{
  c->slot = s ;
  c->pool = s->pool ;
  s->holder = c ;
  c->lease = ++d->nextlease ;
  if (hp_kind_isfd(s->pool->conf.kind)) grant_answer(d, c, s) ;
  else
  {
     /* ballast: the memory or disk must be free before the program starts */
    c->state = CLIENT_GRANTING ;
    s->state = SLOT_GRANTING ;
    if (!helper_send(s, HOLDINGPEN_HELPER_GIVE))
    {
      strerr_warnwu1sys("tell a helper to free its ballast") ;
      helper_stop(s) ;
    }
  }
}

 /* A slot is free again: scrub it, or remake it if it is out of date. */
static void slot_recycle (hpd *d, slot *s)
{
  s->holder = 0 ;
  if (s->retire)
  {
    slot_remove(s) ;
    return ;
  }
  if (s->stale || !s->pid)
  {
    helper_stop(s) ;
    s->deaths = 0 ;
    slot_spawn(d, s) ;
    return ;
  }
  s->state = SLOT_SCRUBBING ;
  if (!helper_send(s, HOLDINGPEN_HELPER_EMPTY))
  {
    strerr_warnwu1sys("tell a helper to scrub") ;
    helper_stop(s) ;
    slot_spawn(d, s) ;
  }
}

static void lease_end (hpd *d, client *c, char const *event)
{
  slot *s = c->slot ;
  pool *p = c->pool ;
  logline l ;
  tain age ;
  tain_sub(&age, &STAMP, &c->since) ;
  log_start(&l, event) ;
  log_str(&l, "pool", p->conf.name) ;
  log_u64(&l, "slot", s->id) ;
  log_u64(&l, "lease", c->lease) ;
  log_who(&l, c) ;
  log_u64(&l, "age", tai_sec(tain_secp(&age))) ;
  log_end(d, &l) ;
  client_close(d, c) ;
  slot_recycle(d, s) ;
}

 /* A client gone in the middle of a ballast grant: the helper's 'x' will find no holder. */
static void client_gone (hpd *d, client *c)
{
  switch (c->state)
  {
    case CLIENT_HOLDING : lease_end(d, c, "release") ; return ;
    case CLIENT_GRANTING : c->slot->holder = 0 ; break ;
    case CLIENT_WAITING :
    {
      logline l ;
      log_start(&l, "leave") ;
      log_str(&l, "pool", c->pool->conf.name) ;
      log_who(&l, c) ;
      log_end(d, &l) ;
      break ;
    }
    default : break ;
  }
  client_close(d, c) ;
}

static slot *pool_ready_slot (pool *p)
{
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
  {
    slot *s = SLOTS(p)[i] ;
    if (s->state == SLOT_READY && !s->retire) return s ;
  }
  return 0 ;
}

 /* FIFO per pool: the oldest waiter gets the next ready slot. */
static void pool_dispatch (hpd *d, pool *p)
{
  for (;;)
  {
    client *first = 0 ;
    slot *s = pool_ready_slot(p) ;
    if (!s) return ;
    for (unsigned int i = 0 ; i < d->maxconn ; i++)
    {
      client *c = d->clients + i ;
      if (c->state == CLIENT_WAITING && c->pool == p && (!first || c->seq < first->seq)) first = c ;
    }
    if (!first) return ;
     /* the same uid may have queued twice: the second comes too soon after the first */
    {
      uint32_t wait = pool_toosoon(p, first->uid) ;
      if (wait)
      {
        refuse_toosoon(d, first, p->conf.name, wait) ;
        continue ;
      }
    }
    grant(d, first, s) ;
  }
}


 /* Requests */

static int claim_allowed (client const *c, char const *poolname)
{
  return c->hasre && !regexec(&c->claimre, poolname, 0, 0, 0) ;
}

static void do_claim (hpd *d, client *c, hp_request const *req)
{
  pool *p ;
  slot *s ;
  logline l ;
  log_start(&l, "claim") ;
  log_str(&l, "pool", req->pool) ;
  log_who(&l, c) ;
  log_end(d, &l) ;
  if (!claim_allowed(c, req->pool))
  {
    deny(d, c, req->pool, "rules", HOLDINGPEN_DENIED, 0, 0) ;
    return ;
  }
  p = pool_find(d, req->pool) ;
  if (!p || p->removed)
  {
    deny(d, c, req->pool, "nopool", HOLDINGPEN_NOENT, 0, 0) ;
    return ;
  }
  {
    uint32_t wait = pool_toosoon(p, c->uid) ;
    if (wait)
    {
      refuse_toosoon(d, c, req->pool, wait) ;
      return ;
    }
  }
  if (p->conf.maxperuid && pool_count_uid(d, p, c->uid) >= p->conf.maxperuid)
  {
    deny(d, c, req->pool, "limit", HOLDINGPEN_LIMIT, 0, 0) ;
    return ;
  }
  c->pool = p ;
  s = pool_ready_slot(p) ;
  if (s)
  {
    grant(d, c, s) ;
    return ;
  }
  if (req->flags & HOLDINGPEN_CLAIM_NOWAIT)
  {
    deny(d, c, req->pool, "busy", HOLDINGPEN_BUSY, 0, 0) ;
    return ;
  }
  c->state = CLIENT_WAITING ;
  c->seq = ++d->nextseq ;
  if (req->millisecs == HOLDINGPEN_FOREVER) c->deadline = tain_infinite ;
  else
  {
    tain t ;
    tain_from_millisecs(&t, req->millisecs > 0x7fffffff ? 0x7fffffff : (int)req->millisecs) ;
    tain_add_g(&c->deadline, &t) ;
  }
  log_start(&l, "wait") ;
  log_str(&l, "pool", p->conf.name) ;
  log_who(&l, c) ;
  log_u64(&l, "seq", c->seq) ;
  log_end(d, &l) ;
}

static int status_pool (hpd const *d, stralloc *sa, pool const *p)
{
  unsigned int n[7] = { 0, 0, 0, 0, 0, 0, 0 } ;
  unsigned int nshort = 0, waiters = 0 ;
  char fmt[UINT64_FMT] ;
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
  {
    slot const *s = SLOTS(p)[i] ;
    if (s->state == SLOT_GONE) continue ;
    n[s->state]++ ;
    if (s->isshort) nshort++ ;
  }
  for (unsigned int i = 0 ; i < d->maxconn ; i++)
    if (d->clients[i].state == CLIENT_WAITING && d->clients[i].pool == p) waiters++ ;
#define CATU(key, val) (stralloc_cats(sa, " " key "=") && stralloc_catb(sa, fmt, uint64_fmt(fmt, (val))))
  return stralloc_cats(sa, "pool=") && stralloc_cats(sa, p->conf.name)
   && stralloc_cats(sa, " kind=") && stralloc_cats(sa, hp_kind_names[p->conf.kind])
   && CATU("size", p->conf.size)
   && CATU("count", p->conf.count)
   && CATU("ready", n[SLOT_READY])
   && CATU("held", n[SLOT_HELD] + n[SLOT_GRANTING])
   && CATU("preparing", n[SLOT_PREPARING] + n[SLOT_SCRUBBING] + n[SLOT_DOWN])
   && CATU("short", nshort)
   && CATU("failed", n[SLOT_FAILED])
   && CATU("waiters", waiters)
   && CATU("expire", p->conf.expire)
   && CATU("ifelapsed", p->conf.ifelapsed)
   && CATU("maxperuid", p->conf.maxperuid)
   && stralloc_cats(sa, p->removed ? " removed=1\n" : " removed=0\n") ;
}

static int status_clients (hpd const *d, stralloc *sa, pool const *p)
{
  char fmt[UINT64_FMT] ;
  for (unsigned int i = 0 ; i < d->maxconn ; i++)
  {
    client const *c = d->clients + i ;
    tain age ;
    if (c->pool != p) continue ;
    if (c->state == CLIENT_HOLDING || c->state == CLIENT_GRANTING)
    {
      tain_sub(&age, &STAMP, &c->since) ;
      if (!stralloc_cats(sa, "lease=") || !stralloc_catb(sa, fmt, uint64_fmt(fmt, c->lease))
       || !stralloc_cats(sa, " pool=") || !stralloc_cats(sa, p->conf.name)
       || !CATU("slot", c->slot->id) || !CATU("uid", c->uid) || !CATU("gid", c->gid) || !CATU("pid", c->pid)
       || !CATU("age", tai_sec(tain_secp(&age)))) return 0 ;
      if (c->state == CLIENT_HOLDING && tain_less(&c->expire, &tain_infinite))
      {
        if (!CATU("expires", secs_until(&c->expire))) return 0 ;
      }
      else if (!stralloc_cats(sa, " expires=never")) return 0 ;
      if (!stralloc_cats(sa, c->killstep ? " ending=1\n" : " ending=0\n")) return 0 ;
    }
    else if (c->state == CLIENT_WAITING)
    {
      tain waited ;
      tain_sub(&waited, &STAMP, &c->since) ;
      if (!stralloc_cats(sa, "waiter=") || !stralloc_catb(sa, fmt, uint64_fmt(fmt, c->seq))
       || !stralloc_cats(sa, " pool=") || !stralloc_cats(sa, p->conf.name)
       || !CATU("uid", c->uid) || !CATU("gid", c->gid) || !CATU("pid", c->pid)
       || !CATU("waited", tai_sec(tain_secp(&waited)))) return 0 ;
      if (tain_less(&c->deadline, &tain_infinite))
      {
        if (!CATU("deadline", secs_until(&c->deadline)) || !stralloc_catb(sa, "\n", 1)) return 0 ;
      }
      else if (!stralloc_cats(sa, " deadline=never\n")) return 0 ;
    }
  }
  return 1 ;
#undef CATU
}

static void do_status (hpd *d, client *c, hp_request const *req)
{
  stralloc sa = STRALLOC_ZERO ;
  char const *name = req->names ;
  if (!c->canstatus)
  {
    deny(d, c, 0, "status", HOLDINGPEN_DENIED, 0, 0) ;
    return ;
  }
  if (!stralloc_catb(&sa, "", 1)) goto err ;
  for (unsigned int i = 0 ; i < req->npools ; i++, name += strlen(name) + 1)
    if (!pool_find(d, name))
    {
      stralloc_free(&sa) ;
      client_refuse(d, c, HOLDINGPEN_NOENT, 0, 0) ;
      return ;
    }
  for (size_t i = 0 ; i < NPOOLS(d) ; i++)
  {
    pool const *p = POOLS(d)[i] ;
    if (req->npools)
    {
      unsigned int j = 0 ;
      name = req->names ;
      for (; j < req->npools ; j++, name += strlen(name) + 1) if (!strcmp(name, p->conf.name)) break ;
      if (j == req->npools) continue ;
    }
    if (!status_pool(d, &sa, p) || !status_clients(d, &sa, p)) goto err ;
  }
  if (!client_answer(c, sa.s, sa.len, 0)) client_close(d, c) ;
  stralloc_free(&sa) ;
  return ;
 err:
  stralloc_free(&sa) ;
  client_refuse(d, c, HOLDINGPEN_SERVERFAIL, 0, 0) ;
}

 /*
   The holder is signalled through a pidfd taken when it connected: if it
   dies while a child keeps the lease, its pid may be reused, and the kill
   sequence must not reach whoever got it. Without pidfds (a kernel older
   than 5.3), the pid is all there is.
 */
static int pidfd_of (pid_t pid)
{
#ifdef SYS_pidfd_open
  return (int)syscall(SYS_pidfd_open, pid, 0) ;
#else
  (void)pid ;
  return (errno = ENOSYS, -1) ;
#endif
}

static int holder_signal (client const *c, int sig)
{
#ifdef SYS_pidfd_send_signal
  if (c->pidfd > 0) return (int)syscall(SYS_pidfd_send_signal, c->pidfd, sig, 0, 0) ;
#endif
  return kill(c->pid, sig) ;
}

 /*
   The careful kill: CONT (a stopped holder must be able to act on what
   follows), INT, TERM, KILL, killdelay apart, stopping as soon as the
   holder is gone; one more killdelay after KILL, the lease ends anyway.
 */
static void kill_step (hpd *d, client *c)
{
  static int const sigs[4] = { SIGCONT, SIGINT, SIGTERM, SIGKILL } ;
   /* EPERM (a daemon not run as root) still means the holder is there */
  if (c->killstep >= 4 || c->pid <= 1 || (holder_signal(c, 0) < 0 && errno == ESRCH))
  {
    lease_end(d, c, "end") ;
    return ;
  }
  {
    int sent = holder_signal(c, sigs[c->killstep]) == 0 ;
    logline l ;
    log_start(&l, "kill") ;
    log_str(&l, "pool", c->pool->conf.name) ;
    log_u64(&l, "lease", c->lease) ;
    log_u64(&l, "pid", c->pid) ;
    log_str(&l, "signal", sig_name(sigs[c->killstep])) ;
    log_str(&l, "sent", sent ? "yes" : "no") ;
    if (!sent) log_str(&l, "error", errno == EPERM ? "EPERM" : "other") ;
    log_end(d, &l) ;
  }
  c->killstep++ ;
  tain_addsec_g(&c->killnext, c->pool->conf.killdelay) ;
}

static void kill_start (hpd *d, client *c, char const *event)
{
  logline l ;
  if (c->killstep) return ;
  log_start(&l, event) ;
  log_str(&l, "pool", c->pool->conf.name) ;
  log_u64(&l, "lease", c->lease) ;
  log_who(&l, c) ;
  log_end(d, &l) ;
  kill_step(d, c) ;
}

static void do_revoke (hpd *d, client *c, hp_request const *req)
{
  client *target = 0 ;
  if (!c->canadmin)
  {
    deny(d, c, 0, "admin", HOLDINGPEN_DENIED, 0, 0) ;
    return ;
  }
  for (unsigned int i = 0 ; i < d->maxconn ; i++)
    if (d->clients[i].state == CLIENT_HOLDING && d->clients[i].lease == req->lease) target = d->clients + i ;
  if (!target)
  {
    client_refuse(d, c, HOLDINGPEN_NOENT, 0, 0) ;
    return ;
  }
  {
    char code = HOLDINGPEN_OK ;
    if (!client_answer(c, &code, 1, 0)) client_close(d, c) ;
  }
  kill_start(d, target, "revoke") ;
}

static int reload (hpd *, stralloc *) ;

static void do_reload (hpd *d, client *c)
{
  stralloc err = STRALLOC_ZERO ;
  int r ;
  if (!c->canadmin)
  {
    deny(d, c, 0, "admin", HOLDINGPEN_DENIED, 0, 0) ;
    return ;
  }
  r = reload(d, &err) ;
  if (r > 0)
  {
    char code = HOLDINGPEN_OK ;
    if (!client_answer(c, &code, 1, 0)) client_close(d, c) ;
  }
  else client_refuse(d, c, r < 0 ? HOLDINGPEN_SERVERFAIL : HOLDINGPEN_BADCONFIG, err.s, err.len) ;
  stralloc_free(&err) ;
}

static void client_message (hpd *d, client *c, unixmessage const *m)
{
  hp_request req ;
  if (m->nfds) unixmessage_drop(m) ;
  if (c->state == CLIENT_HOLDING)
  {
     /* a lease holder has nothing to say: any word from it ends the lease */
    lease_end(d, c, "release") ;
    return ;
  }
  if (c->state != CLIENT_REQUEST || m->nfds || !hp_request_parse(&req, m->s, m->len))
  {
    logline l ;
    log_start(&l, "client-error") ;
    log_who(&l, c) ;
    log_str(&l, "reason", "badrequest") ;
    log_end(d, &l) ;
    if (c->state == CLIENT_REQUEST) client_refuse(d, c, HOLDINGPEN_BADREQUEST, 0, 0) ;
    else client_gone(d, c) ;
    return ;
  }
  switch (req.op)
  {
    case HOLDINGPEN_OP_CLAIM : do_claim(d, c, &req) ; break ;
    case HOLDINGPEN_OP_STATUS : do_status(d, c, &req) ; break ;
    case HOLDINGPEN_OP_REVOKE : do_revoke(d, c, &req) ; break ;
    case HOLDINGPEN_OP_RELOAD : do_reload(d, c) ; break ;
  }
}

 /*
   One message at a time, by hand rather than with unixmessage_handle:
   a message may end the client (and zero its connection) under us.
 */
static void client_read (hpd *d, client *c)
{
  for (unsigned int n = 0 ; n < UNIXMESSAGE_MAXREADS ; n++)
  {
    unixmessage m ;
    int r ;
    if (c->state != CLIENT_REQUEST && c->state != CLIENT_WAITING && c->state != CLIENT_HOLDING) return ;
    r = unixmessage_receive(&c->conn.in, &m) ;
    if (r < 0) { client_gone(d, c) ; return ; }
    if (!r) return ;
    client_message(d, c, &m) ;
  }
}

 /* Access rules, decided once per connection, as s6-fdholderd does. */

static int parse_rules_env (hpd *d, client *c, char const *s, size_t len)
{
  size_t n = byte_count(s, len, 0) ;
  char const *envp[n + 1] ;
  if (!env_make(envp, n, s, len)) return 0 ;
  envp[n] = 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    if (!strncmp(envp[i], "HOLDINGPEN_STATUS=", 18)) c->canstatus = 1 ;
    else if (!strncmp(envp[i], "HOLDINGPEN_ADMIN=", 17)) c->canadmin = 1 ;
    else if (!strncmp(envp[i], "HOLDINGPEN_CLAIM_REGEX=", 23) && !c->hasre)
    {
       /* anchored: a rule names whole pool names, not parts of them */
      char const *re = envp[i] + 23 ;
      size_t relen = strlen(re) ;
      char anchored[relen + 5] ;
      int e ;
      anchored[0] = '^' ; anchored[1] = '(' ;
      memcpy(anchored + 2, re, relen) ;
      memcpy(anchored + 2 + relen, ")$", 3) ;
      e = regcomp(&c->claimre, anchored, REG_EXTENDED | REG_NOSUB) ;
      if (e)
      {
        char buf[256] ;
        regerror(e, &c->claimre, buf, sizeof(buf)) ;
        if (d->verbosity) strerr_warnw4x("invalid HOLDINGPEN_CLAIM_REGEX ", re, ": ", buf) ;
      }
      else c->hasre = 1 ;
    }
  }
  return 1 ;
}

static void client_rules (hpd *d, client *c)
{
  s6_accessrules_params_t params = S6_ACCESSRULES_PARAMS_ZERO ;
  s6_accessrules_result_t r ;
  if (!d->rulestype)
  {
    if (c->uid && c->uid != d->myuid) return ;
    if (regcomp(&c->claimre, "", REG_EXTENDED | REG_NOSUB)) return ;
    c->hasre = 1 ;
    c->canstatus = 1 ;
    c->canadmin = 1 ;
    return ;
  }
  r = d->rulestype == 1 ? s6_accessrules_uidgid_fs(c->uid, c->gid, d->rules, &params)
                        : s6_accessrules_uidgid_cdb(c->uid, c->gid, &d->rulescdb, &params) ;
  if (r == S6_ACCESSRULES_ERROR && d->verbosity) strerr_warnwu1sys("check the access rules") ;
  if (r == S6_ACCESSRULES_ALLOW && params.env.len && !parse_rules_env(d, c, params.env.s, params.env.len) && d->verbosity)
    strerr_warnwu1sys("read the environment given by the access rules") ;
  s6_accessrules_params_free(&params) ;
}

static void new_connection (hpd *d, int fd)
{
  struct ucred cred ;
  socklen_t credlen = sizeof(cred) ;
  client *c = 0 ;
  for (unsigned int i = 0 ; i < d->maxconn ; i++)
    if (d->clients[i].state == CLIENT_FREE) { c = d->clients + i ; break ; }
  if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) < 0)
  {
    if (c) strerr_warnwu1sys("get the credentials of a client") ;
    fd_close(fd) ;
    return ;
  }
  memset(c, 0, sizeof(client)) ;
  unixconnection_init(&c->conn, fd, fd) ;
  c->uid = cred.uid ;
  c->gid = cred.gid ;
  c->pid = cred.pid ;
  c->pidfd = cred.pid > 0 ? pidfd_of(cred.pid) : -1 ;
  c->state = CLIENT_REQUEST ;
  tain_copynow(&c->since) ;
  tain_add_g(&c->deadline, &d->answertto) ;
  d->nclients++ ;
  client_rules(d, c) ;
}


 /* Helper I/O */

static void helper_died (hpd *d, slot *s, int wstat)
{
  logline l ;
  int failed = WIFEXITED(wstat) && WEXITSTATUS(wstat) == 100 ;
  helper_close(s) ;
  log_start(&l, failed ? "helper-failed" : "helper-crash") ;
  log_str(&l, "pool", s->pool->conf.name) ;
  log_u64(&l, "slot", s->id) ;
  log_u64(&l, "helper", s->pid) ;
  log_str(&l, "state", slot_state_names[s->state]) ;
  if (WIFSIGNALED(wstat)) log_str(&l, "signal", sig_name(WTERMSIG(wstat))) ;
  else log_u64(&l, "exitcode", WEXITSTATUS(wstat)) ;
  log_end(d, &l) ;
  s->pid = 0 ;
  s->deaths++ ;
  switch (s->state)
  {
    case SLOT_HELD :
       /* the holder keeps its lease; a new helper comes when it ends */
      return ;
    case SLOT_GRANTING :
       /* a dead helper holds no ballast: the grant can go on */
      if (s->holder) grant_answer(d, s->holder, s) ;
      else slot_recycle(d, s) ;
      return ;
    default : break ;
  }
  slot_drop_fd(s) ;
  if (s->retire)
  {
    slot_remove(s) ;
    return ;
  }
  if (failed)
  {
    s->state = SLOT_FAILED ;
    s->settled = 1 ;
    return ;
  }
  slot_schedule_respawn(s) ;
}

static slot *slot_by_pid (hpd *d, pid_t pid)
{
  for (size_t i = 0 ; i < NPOOLS(d) ; i++)
  {
    pool *p = POOLS(d)[i] ;
    for (size_t j = 0 ; j < NSLOTS(p) ; j++)
      if (SLOTS(p)[j]->pid == pid) return SLOTS(p)[j] ;
  }
  return 0 ;
}

static void helper_protocol_error (hpd *d, slot *s)
{
  log_slot(d, "helper-error", s) ;
  helper_stop(s) ;
  if (s->state != SLOT_HELD)
  {
    slot_drop_fd(s) ;
    s->deaths++ ;
    slot_schedule_respawn(s) ;
  }
}

static int helper_message (hpd *d, slot *s, unixmessage const *m)
{
  char c = m->len == 1 ? m->s[0] : 0 ;
  if (c == HOLDINGPEN_HELPER_READY && (s->state == SLOT_PREPARING || s->state == SLOT_SCRUBBING)
   && m->nfds == (hp_kind_isfd(s->pool->conf.kind) ? 1U : 0U))
  {
    s->fd = m->nfds ? m->fds[0] : -1 ;
    s->state = SLOT_READY ;
    s->deaths = 0 ;
    s->isshort = 0 ;
    s->settled = 1 ;
    log_slot(d, "helper-ready", s) ;
    if (s->stale || s->retire) slot_recycle(d, s) ;
    else pool_dispatch(d, s->pool) ;
    return 1 ;
  }
  if (c == HOLDINGPEN_HELPER_SHORT && !m->nfds && (s->state == SLOT_PREPARING || s->state == SLOT_SCRUBBING))
  {
    s->isshort = 1 ;
    log_slot(d, "helper-short", s) ;
    return 1 ;
  }
  if (c == HOLDINGPEN_HELPER_FREED && !m->nfds && s->state == SLOT_GRANTING)
  {
    if (s->holder) grant_answer(d, s->holder, s) ;
    else slot_recycle(d, s) ;
    return 1 ;
  }
  unixmessage_drop(m) ;
  return (errno = EPROTO, 0) ;
}

static void helper_read (hpd *d, slot *s)
{
  for (unsigned int n = 0 ; n < UNIXMESSAGE_MAXREADS ; n++)
  {
    unixmessage m ;
    int r ;
    if (!s->pid || unixmessage_sender_fd(&s->helper.out) < 0) return ;
    r = unixmessage_receive(&s->helper.in, &m) ;
    if (!r) return ;
     /* EPIPE: the helper is exiting, and SIGCHLD will say why */
    if (r < 0) { if (errno == EPIPE) helper_close(s) ; else helper_protocol_error(d, s) ; return ; }
    if (!helper_message(d, s, &m)) { helper_protocol_error(d, s) ; return ; }
  }
}

static void reap (hpd *d)
{
  for (;;)
  {
    int wstat ;
    pid_t pid = wait_nohang(&wstat) ;
    slot *s ;
    if (pid <= 0) return ;
    s = slot_by_pid(d, pid) ;
    if (s) helper_died(d, s, wstat) ;
  }
}


 /* Configuration */

static int rules_load (hpd *d, stralloc *err)
{
  cdb c = CDB_ZERO ;
  if (d->rulestype != 2) return 1 ;
  if (!cdb_init(&c, d->rules))
  {
    if (err) return stralloc_cats(err, "unable to read the rules file ") && stralloc_cats(err, d->rules) ? 0 : -1 ;
    return 0 ;
  }
  cdb_free(&d->rulescdb) ;
  d->rulescdb = c ;
  return 1 ;
}

static int pools_read (hpd const *d, genalloc *confs, stralloc *err)
{
  if (!d->pooldir)
  {
    hp_poolconf conf ;
    hp_poolconf_default(&conf) ;
    return genalloc_append(hp_poolconf, confs, &conf) ? 1 : -1 ;
  }
  {
    int r = hp_pooldir_read(confs, d->pooldir, err) ;
    if (r < 0 && !err->len)
    {
      int e = errno ;
       /* if even the message cannot be built, the caller still has -1 */
      if (stralloc_cats(err, "unable to read the pool directory ") && stralloc_cats(err, d->pooldir))
      {
        stralloc_cats(err, ": ") ;
        stralloc_cats(err, strerror(e)) ;
      }
    }
    return r ;
  }
}

static void pool_update (hpd *d, pool *p, hp_poolconf const *conf)
{
  int same = poolconf_same_resource(&p->conf, conf) ;
  uint32_t live = 0 ;
  p->conf = *conf ;
  p->removed = 0 ;
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
  {
    slot *s = SLOTS(p)[i] ;
    if (s->retire || s->state == SLOT_GONE) continue ;
    if (live++ >= conf->count) s->retire = 1 ;
    else if (!same) s->stale = 1 ;
  }
  for (; live < conf->count ; live++)
    if (!slot_new(p)) strerr_diefu1sys(111, "allocate a slot") ;
   /* free slots take the change now; held ones when their lease ends */
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
  {
    slot *s = SLOTS(p)[i] ;
     /* a reload is the admin saying "I fixed it": failed slots try again */
    if (!s->retire && !s->stale && (s->state == SLOT_FAILED || (!s->pid && s->state == SLOT_DOWN)))
    {
      s->deaths = 0 ;
      slot_spawn(d, s) ;
      continue ;
    }
    if ((s->stale || s->retire) && (s->state == SLOT_READY || s->state == SLOT_FAILED || s->state == SLOT_DOWN))
    {
      helper_stop(s) ;
      slot_drop_fd(s) ;
      if (s->retire) slot_remove(s) ;
      else { s->deaths = 0 ; s->settled = 0 ; slot_spawn(d, s) ; }
    }
  }
}

static void pool_retire (hpd *d, pool *p)
{
  p->removed = 1 ;
  for (unsigned int i = 0 ; i < d->maxconn ; i++)
  {
    client *c = d->clients + i ;
    if (c->state == CLIENT_WAITING && c->pool == p)
    {
      deny(d, c, p->conf.name, "removed", HOLDINGPEN_NOENT, 0, 0) ;
    }
  }
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
  {
    slot *s = SLOTS(p)[i] ;
    s->retire = 1 ;
    if (s->state != SLOT_HELD && s->state != SLOT_GRANTING) slot_remove(s) ;
  }
}

 /* 1: applied; 0: refused, the old configuration stays (err says why); -1: system error. */
static int reload (hpd *d, stralloc *err)
{
  genalloc confs = GENALLOC_ZERO ;
  logline l ;
  int r = rules_load(d, err) ;
  if (r <= 0) goto refused ;
  r = pools_read(d, &confs, err) ;
  if (r <= 0) goto refused ;
  for (size_t i = 0 ; i < NPOOLS(d) ; i++)
  {
    pool *p = POOLS(d)[i] ;
    size_t j = 0 ;
    for (; j < genalloc_len(hp_poolconf, &confs) ; j++)
      if (!strcmp(genalloc_s(hp_poolconf, &confs)[j].name, p->conf.name)) break ;
    if (j == genalloc_len(hp_poolconf, &confs) && !p->removed) pool_retire(d, p) ;
  }
  for (size_t j = 0 ; j < genalloc_len(hp_poolconf, &confs) ; j++)
  {
    hp_poolconf const *conf = genalloc_s(hp_poolconf, &confs) + j ;
    pool *p = pool_find(d, conf->name) ;
    if (p) pool_update(d, p, conf) ;
    else
    {
      p = pool_new(d, conf) ;
      for (size_t k = 0 ; k < NSLOTS(p) ; k++) slot_spawn(d, SLOTS(p)[k]) ;
    }
  }
  genalloc_free(hp_poolconf, &confs) ;
  log_start(&l, "reload") ;
  log_u64(&l, "pools", NPOOLS(d)) ;
  log_end(d, &l) ;
  for (size_t i = 0 ; i < NPOOLS(d) ; i++) pool_dispatch(d, POOLS(d)[i]) ;
  return 1 ;

 refused:
  genalloc_free(hp_poolconf, &confs) ;
  log_start(&l, "reload") ;
  log_str(&l, "result", "refused") ;
  log_end(d, &l) ;
  if (err->len && d->verbosity) { stralloc_0(err) ; err->len-- ; strerr_warnw2x("reload refused, keeping the old configuration: ", err->s) ; }
  return r ;
}


 /* The loop */

static int all_settled (hpd const *d)
{
  for (size_t i = 0 ; i < NPOOLS(d) ; i++)
  {
    pool const *p = POOLS(d)[i] ;
    for (size_t j = 0 ; j < NSLOTS(p) ; j++) if (!SLOTS(p)[j]->settled) return 0 ;
  }
  return 1 ;
}

static void x_add (hpd *d, int fd, short events, unsigned int *xindex)
{
  iopause_fd x = { .fd = fd, .events = events, .revents = 0 } ;
  *xindex = genalloc_len(iopause_fd, &d->x) ;
  if (!genalloc_append(iopause_fd, &d->x, &x)) strerr_diefu1sys(111, "grow the iopause array") ;
}

static void tain_min (tain *deadline, tain const *t)
{
  if (tain_less(t, deadline)) *deadline = *t ;
}

static void prepare (hpd *d, tain *deadline, int cont)
{
  unsigned int dummy ;
  genalloc_setlen(iopause_fd, &d->x, 0) ;
  x_add(d, d->spfd, IOPAUSE_READ, &dummy) ;
  x_add(d, 0, cont && d->nclients < d->maxconn ? IOPAUSE_READ : 0, &dummy) ;
  *deadline = tain_infinite ;
  for (size_t i = 0 ; i < NPOOLS(d) ; i++)
  {
    pool *p = POOLS(d)[i] ;
    for (size_t j = 0 ; j < NSLOTS(p) ; j++)
    {
      slot *s = SLOTS(p)[j] ;
      s->xindex = 0 ;
      if (s->state == SLOT_DOWN) tain_min(deadline, &s->respawn) ;
      if (unixmessage_sender_fd(&s->helper.out) >= 0)
        x_add(d, unixmessage_sender_fd(&s->helper.out), IOPAUSE_READ | (unixmessage_sender_isempty(&s->helper.out) ? 0 : IOPAUSE_WRITE), &s->xindex) ;
    }
  }
  for (unsigned int i = 0 ; i < d->maxconn ; i++)
  {
    client *c = d->clients + i ;
    short events = 0 ;
     /* free entries are never written: their pages stay untouched */
    if (c->state == CLIENT_FREE) continue ;
    c->xindex = 0 ;
    if (c->state != CLIENT_CLOSING && c->state != CLIENT_GRANTING) events |= IOPAUSE_READ ;
    if (!unixmessage_sender_isempty(&c->conn.out)) events |= IOPAUSE_WRITE ;
    if (events) x_add(d, unixmessage_sender_fd(&c->conn.out), events, &c->xindex) ;
    switch (c->state)
    {
      case CLIENT_REQUEST : case CLIENT_WAITING : case CLIENT_CLOSING : tain_min(deadline, &c->deadline) ; break ;
      case CLIENT_HOLDING : tain_min(deadline, c->killstep ? &c->killnext : &c->expire) ; break ;
      default : break ;
    }
  }
}

static void handle_timeouts (hpd *d)
{
  for (unsigned int i = 0 ; i < d->maxconn ; i++)
  {
    client *c = d->clients + i ;
    switch (c->state)
    {
      case CLIENT_REQUEST :
        if (!tain_future(&c->deadline))
        {
          logline l ;
          log_start(&l, "client-error") ;
          log_who(&l, c) ;
          log_str(&l, "reason", "timeout") ;
          log_end(d, &l) ;
          client_close(d, c) ;
        }
        break ;
      case CLIENT_WAITING :
        if (!tain_future(&c->deadline))
        {
          logline l ;
          log_start(&l, "timeout") ;
          log_str(&l, "pool", c->pool->conf.name) ;
          log_who(&l, c) ;
          log_end(d, &l) ;
          client_refuse(d, c, HOLDINGPEN_TIMEOUT, 0, 0) ;
        }
        break ;
      case CLIENT_CLOSING :
        if (!tain_future(&c->deadline)) client_close(d, c) ;
        break ;
      case CLIENT_HOLDING :
        if (c->killstep) { if (!tain_future(&c->killnext)) kill_step(d, c) ; }
        else if (!tain_future(&c->expire)) kill_start(d, c, "expire") ;
        break ;
      default : break ;
    }
  }
  for (size_t i = 0 ; i < NPOOLS(d) ; i++)
  {
    pool *p = POOLS(d)[i] ;
    for (size_t j = 0 ; j < NSLOTS(p) ; j++)
    {
      slot *s = SLOTS(p)[j] ;
      if (s->state == SLOT_DOWN && !tain_future(&s->respawn)) slot_spawn(d, s) ;
    }
  }
}

static void handle_io (hpd *d)
{
  iopause_fd const *x = genalloc_s(iopause_fd, &d->x) ;
  for (size_t i = 0 ; i < NPOOLS(d) ; i++)
  {
    pool *p = POOLS(d)[i] ;
    for (size_t j = 0 ; j < NSLOTS(p) ; j++)
    {
      slot *s = SLOTS(p)[j] ;
      if (!s->xindex || s->state == SLOT_GONE) continue ;
      if (x[s->xindex].revents & IOPAUSE_WRITE && !unixmessage_sender_flush(&s->helper.out) && !error_isagain(errno))
        helper_protocol_error(d, s) ;
      else if (x[s->xindex].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) helper_read(d, s) ;
    }
  }
  for (unsigned int i = 0 ; i < d->maxconn ; i++)
  {
    client *c = d->clients + i ;
    if (c->state == CLIENT_FREE || !c->xindex) continue ;
    if (x[c->xindex].revents & IOPAUSE_WRITE)
    {
      if (!unixmessage_sender_flush(&c->conn.out) && !error_isagain(errno))
      {
        client_gone(d, c) ;
        continue ;
      }
    }
    if (c->state == CLIENT_CLOSING)
    {
      if (unixmessage_sender_isempty(&c->conn.out)) client_close(d, c) ;
      continue ;
    }
    if (x[c->xindex].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) client_read(d, c) ;
  }
}

static void handle_accept (hpd *d)
{
  while (d->nclients < d->maxconn)
  {
    int fd = ipc_accept_nbcoe(0, 0, 0, 0) ;
    if (fd < 0)
    {
      if (!error_isagain(errno) && errno != ECONNABORTED) strerr_warnwu1sys("accept") ;
      return ;
    }
    new_connection(d, fd) ;
  }
}

 /* Returns 0 when it is time to exit. */
static int handle_signals (hpd *d)
{
  for (;;)
  {
    int sig = selfpipe_read() ;
    switch (sig)
    {
      case -1 : strerr_diefu1sys(111, "selfpipe_read") ;
      case 0 : return 1 ;
      case SIGTERM :
      case SIGINT : return 0 ;
      case SIGCHLD : reap(d) ; break ;
      case SIGHUP :
      {
        stralloc err = STRALLOC_ZERO ;
        reload(d, &err) ;
        stralloc_free(&err) ;
        break ;
      }
      default : break ;
    }
  }
}

static void shutdown_helpers (hpd *d)
{
  for (size_t i = 0 ; i < NPOOLS(d) ; i++)
  {
    pool *p = POOLS(d)[i] ;
    for (size_t j = 0 ; j < NSLOTS(p) ; j++) helper_stop(SLOTS(p)[j]) ;
  }
}

/*
   Lame duck, after SIGTERM: answers already queued get until the deadline
   to leave. Leases and waiting claims are not waited for: the holders
   keep their fds, and a waiter learns from the closed connection.
 */
static void lameduck (hpd *d, tain const *deadline)
{
  for (unsigned int i = 0 ; i < d->maxconn ; i++)
  {
    client *c = d->clients + i ;
    if (c->state != CLIENT_FREE && !unixmessage_sender_isempty(&c->conn.out)
     && !unixmessage_sender_timed_flush_g(&c->conn.out, deadline) && errno == ETIMEDOUT) return ;
  }
}

static void notify_ready (hpd *d)
{
  logline l ;
  if (d->notif < 0 || !all_settled(d)) return ;
  if (fd_write(d->notif, "\n", 1) < 1) strerr_warnwu1sys("write the readiness notification") ;
  fd_close(d->notif) ;
  d->notif = -1 ;
  log_start(&l, "ready") ;
  log_u64(&l, "pools", NPOOLS(d)) ;
  log_end(d, &l) ;
}

int main (int argc, char const *const *argv, char const *const *envp)
{
  hpd d = { .helper = HOLDINGPEN_LIBEXECPREFIX "holdingpen-helper", .pooldir = 0, .rules = 0, .rulestype = 0, .rulescdb = CDB_ZERO, .pools = GENALLOC_ZERO, .clients = 0, .maxconn = MAXCONN_DEFAULT, .nclients = 0, .x = GENALLOC_ZERO, .nextlease = 0, .nextseq = 0, .verbosity = 1, .notif = -1, .spfd = -1, .envp = envp } ;
  unsigned int timeout = 10000 ;
  unsigned int lameducktimeout = 0 ;
  int pooldir_given = 0 ;
  PROG = "holdingpend" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "v:1d:c:t:T:i:x:p:H:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'v' : if (!uint0_scan(l.arg, &d.verbosity)) dieusage() ; break ;
        case '1' : d.notif = 1 ; break ;
        case 'd' : { unsigned int u ; if (!uint0_scan(l.arg, &u) || u < 3) dieusage() ; d.notif = u ; break ; }
        case 'c' : if (!uint0_scan(l.arg, &d.maxconn)) dieusage() ; break ;
        case 't' : if (!uint0_scan(l.arg, &timeout)) dieusage() ; break ;
        case 'T' : if (!uint0_scan(l.arg, &lameducktimeout)) dieusage() ; break ;
        case 'i' : d.rules = l.arg ; d.rulestype = 1 ; break ;
        case 'x' : d.rules = l.arg ; d.rulestype = 2 ; break ;
        case 'p' : d.pooldir = l.arg ; pooldir_given = 1 ; break ;
        case HOLDINGPEN_OP_RELOAD : d.helper = l.arg ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ;
  }
  if (argc) dieusage() ;
  if (!d.maxconn) d.maxconn = 1 ;
  if (d.maxconn > MAXCONN_MAX) d.maxconn = MAXCONN_MAX ;
  if (timeout) tain_from_millisecs(&d.answertto, timeout) ;
  else d.answertto = tain_infinite_relative ;
  d.myuid = getuid() ;

  {
    struct stat st ;
    if (fstat(0, &st) < 0) strerr_diefu1sys(111, "fstat stdin") ;
    if (!S_ISSOCK(st.st_mode)) strerr_dief1x(100, "stdin is not a socket") ;
  }
  if (d.notif >= 0 && fcntl(d.notif, F_GETFD) < 0)
    strerr_dief1sys(100, "the notification fd is not open") ;
  if (d.notif != 1) fd_close(1) ;
   /* helpers inherit nothing of ours but their socket */
  if (coe(0) < 0 || (d.notif >= 0 && coe(d.notif) < 0) || ndelay_on(0) < 0)
    strerr_diefu1sys(111, "set flags on the listening socket") ;

  if (!pooldir_given && access(HOLDINGPEN_DEFAULT_POOLDIR, F_OK) == 0) d.pooldir = HOLDINGPEN_DEFAULT_POOLDIR ;

  tain_now_set_stopwatch_g() ;
  d.spfd = selfpipe_init() ;
  if (d.spfd < 0) strerr_diefu1sys(111, "selfpipe_init") ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  {
    sigset_t set ;
    sigemptyset(&set) ;
    sigaddset(&set, SIGTERM) ;
    sigaddset(&set, SIGINT) ;
    sigaddset(&set, SIGHUP) ;
    sigaddset(&set, SIGCHLD) ;
    if (!selfpipe_trapset(&set)) strerr_diefu1sys(111, "trap signals") ;
  }

  {
    stralloc err = STRALLOC_ZERO ;
    genalloc confs = GENALLOC_ZERO ;
    int r ;
    if (d.rulestype == 2 && !cdb_init(&d.rulescdb, d.rules)) strerr_diefu2sys(111, "read the rules file ", d.rules) ;
    r = pools_read(&d, &confs, &err) ;
    if (r < 0) { stralloc_0(&err) ; strerr_diefu1x(111, err.s) ; }
    if (!r) { stralloc_0(&err) ; strerr_dief1x(100, err.s) ; }
    stralloc_free(&err) ;
    for (size_t i = 0 ; i < genalloc_len(hp_poolconf, &confs) ; i++)
      pool_new(&d, genalloc_s(hp_poolconf, &confs) + i) ;
    genalloc_free(hp_poolconf, &confs) ;
  }
   /* calloc, not alloc+memset: pages of the table stay untouched until a client needs them */
  d.clients = calloc(d.maxconn, sizeof(client)) ;
  if (!d.clients) strerr_diefu1sys(111, "allocate the client table") ;

  {
    logline l ;
    log_start(&l, "start") ;
    log_u64(&l, "pools", NPOOLS(&d)) ;
    log_str(&l, "pooldir", d.pooldir ? d.pooldir : "(embedded)") ;
    log_end(&d, &l) ;
  }
  for (size_t i = 0 ; i < NPOOLS(&d) ; i++)
  {
    pool *p = POOLS(&d)[i] ;
    for (size_t j = 0 ; j < NSLOTS(p) ; j++) slot_spawn(&d, SLOTS(p)[j]) ;
  }

  for (;;)
  {
    tain deadline ;
    int r ;
    notify_ready(&d) ;
    prepare(&d, &deadline, 1) ;
    r = iopause_g(genalloc_s(iopause_fd, &d.x), genalloc_len(iopause_fd, &d.x), &deadline) ;
    if (r < 0) strerr_diefu1sys(111, "iopause") ;
    if (r && genalloc_s(iopause_fd, &d.x)[0].revents & IOPAUSE_READ && !handle_signals(&d)) break ;
    handle_timeouts(&d) ;
    if (!r) { collect(&d) ; continue ; }
    handle_io(&d) ;
    if (genalloc_s(iopause_fd, &d.x)[1].revents & IOPAUSE_READ) handle_accept(&d) ;
    collect(&d) ;
  }

   /* helpers first: their going must not wait for a slow client */
  shutdown_helpers(&d) ;
  if (lameducktimeout)
  {
    tain deadline ;
    tain_from_millisecs(&deadline, lameducktimeout > 0x7fffffff ? 0x7fffffff : (int)lameducktimeout) ;
    tain_add_g(&deadline, &deadline) ;
    lameduck(&d, &deadline) ;
  }
  {
    logline l ;
    log_start(&l, "exit") ;
    log_end(&d, &l) ;
  }
  return 0 ;
}
