/* ISC license. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/epoll.h>

#include <skalibs/types.h>
#include <skalibs/uint64.h>
#include <skalibs/alloc.h>
#include <skalibs/error.h>
#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>
#include <skalibs/cbuffer.h>
#include <skalibs/gensetdyn.h>
#include <skalibs/avltreen.h>
#include <skalibs/unixmessage.h>
#include <skalibs/unixconnection.h>

#include "holdingpend-internal.h"

#define RESPAWN_MAX_MS 30000
#define RESPAWN_KILLED_MS 1000
#define RESPAWN_NOMEM_MS 1000

enum lost_e
{
  LOST_CRASH,    /* it died, or broke the protocol */
  LOST_FAILED,   /* it exited 100: failed for good */
  LOST_NOMEM     /* holdingpend could not allocate its conversation: stopped */
} ;

 /*
   A slot is one resource and the helper process that owns it. holdingpend
   talks to a helper only while it waits for an answer (a reservation, a
   ballast given back): the rest of the time the helper's socket is not
   polled and costs no buffer, and a helper's death is learned from
   SIGCHLD, its pid found in a tree.
*/

char const *const slot_state_names[] = { "down", "preparing", "ready", "granting", "held", "scrubbing", "failed", "gone" } ;

 /* The slot at index i of g.slots, 0 if there is none now (keep.c asks about slots that may be gone). */
slot *slot_of_index (uint32_t i)
{
  if (i >= g.slots.storage.len) return 0 ;
  return *(slot **)gensetdyn_p(&g.slots, i) ;
}

static void *pid_dtok (uint32_t d, void *aux)
{
  (void)aux ;
  return &slot_of_index(d)->pid ;
}

static int pid_cmp (void const *a, void const *b, void *aux)
{
  pid_t pa = *(pid_t const *)a ;
  pid_t pb = *(pid_t const *)b ;
  (void)aux ;
  return pa < pb ? -1 : pa > pb ;
}

void slot_settle (slot *s)
{
  if (s->settled) return ;
  s->settled = 1 ;
  g.unsettled-- ;
}

static void ready_remove (slot *s)
{
  pool *p = s->pool ;
  if (!s->inlist) return ;
  if (s->prev) s->prev->next = s->next ; else p->ready = s->next ;
  if (s->next) s->next->prev = s->prev ; else p->readytail = s->prev ;
  s->prev = s->next = 0 ;
  s->inlist = 0 ;
}

 /* The oldest ready slot is granted first: appended at the tail. */
static void ready_append (slot *s)
{
  pool *p = s->pool ;
  if (s->inlist) return ;
  s->next = 0 ;
  s->prev = p->readytail ;
  if (p->readytail) p->readytail->next = s ; else p->ready = s ;
  p->readytail = s ;
  s->inlist = 1 ;
}

 /* Every state change goes here, so that the pool's counts and ready list never drift. */
void slot_setstate (slot *s, unsigned int state)
{
  pool *p = s->pool ;
  p->nslots[s->state]-- ;
  if (s->state == SLOT_READY) ready_remove(s) ;
  s->state = state ;
  p->nslots[state]++ ;
  if (state == SLOT_READY && !s->retire) ready_append(s) ;
}

static void setshort (slot *s, int isshort)
{
  if (s->isshort == !!isshort) return ;
  s->isshort = !!isshort ;
  if (isshort) s->pool->nshort++ ; else s->pool->nshort-- ;
}

/*
   Making a slot is in three steps, so that a reload can allocate all it
   needs before it changes anything (pool.c): room for n more slots in
   every table (their entries, the trees, the loop's arrays), the slots'
   own memory, then each slot attached to its pool, which cannot fail.
   The trees have room for every slot: spawning and arming never allocate.
*/
int slot_room (uint32_t n)
{
  uint32_t len = g.slots.storage.len ;
  uint32_t total = gensetdyn_n(&g.slots) + n ;
  if (!gensetdyn_readyplus(&g.slots, n)) return 0 ;
   /* room that gensetdyn has just made holds no slot: slot_of_index says so */
  for (; len < g.slots.storage.len ; len++) *(slot **)gensetdyn_p(&g.slots, len) = 0 ;
  return timer_room(total) && hp_tree_reserve(&g.helpers, total) && loop_room(total) ;
}

slot *slot_alloc (void)
{
  slot *s = alloc(sizeof(slot)) ;
  if (s) memset(s, 0, sizeof(slot)) ;
  return s ;
}

 /*
   s, from slot_alloc, into p and g.slots: slot_room made room for it,
   and its caller room in p->slots, so this cannot fail. If it did, a
   bug: the test builds die of it; otherwise s is freed, and said.
*/
int slot_attach (pool *p, slot *s)
{
  uint32_t i ;
  if (!gensetdyn_new(&g.slots, &i)) goto err ;
  if (!genalloc_append(slot *, &p->slots, &s))
  {
    gensetdyn_delete(&g.slots, i) ;
    goto err ;
  }
  *(slot **)gensetdyn_p(&g.slots, i) = s ;
  s->helperfd = -1 ;
  s->adopt = -1 ;
  s->pool = p ;
  s->fd = -1 ;
  s->id = p->nextslotid++ ;
  s->index = i ;
  s->respawn.id = TIMER_SLOT | i ;
  s->state = SLOT_DOWN ;
  p->nslots[SLOT_DOWN]++ ;
  g.unsettled++ ;
  return 1 ;
 err:
#ifdef HP_TREE_CHECKS
  strerr_dief3x(111, "no room for a slot of pool ", p->conf.name, " where room was made") ;
#else
  strerr_warnw3x("no room for a slot of pool ", p->conf.name, " where room was made: it is short of one") ;
  alloc_free(s) ;
  return 0 ;
#endif
}

 /* One slot more in p, at start-up; 0 if it cannot be had, nothing changed. */
slot *slot_new (pool *p)
{
  slot *s ;
  if (!slot_room(1) || !genalloc_readyplus(slot *, &p->slots, 1)) return 0 ;
  s = slot_alloc() ;
  if (!s || !slot_attach(p, s)) return 0 ;
  return s ;
}

static void unwatch (slot *s)
{
  if (!s->watched) return ;
  epoll_ctl(g.epfd, EPOLL_CTL_DEL, s->helperfd, 0) ;
  s->watched = 0 ;
}

 /*
   A quiet helper may still speak (a file slot's helper reports writes
   into an ended lease's file): its socket waits in the epoll set, which
   costs the loop nothing until it does.
*/
static void watch (slot *s)
{
  struct epoll_event ev = { .events = EPOLLIN, .data = { .u32 = WATCH_HELPER | s->index } } ;
  if (s->watched || s->helperfd < 0) return ;
  if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, s->helperfd, &ev) < 0) strerr_warnwu1sys("add a helper to the epoll set") ;
  else s->watched = 1 ;
}

static int talk (slot *s)
{
  unixconnection *conn ;
  if (s->helper) return 1 ;
   /* without memory for the conversation, the socket stays where it was */
  conn = alloc(sizeof(unixconnection)) ;
  if (!conn) return 0 ;
  unwatch(s) ;
  s->helper = conn ;
  unixconnection_init(s->helper, s->helperfd, s->helperfd) ;
  s->tprev = 0 ;
  s->tnext = g.talking ;
  if (g.talking) g.talking->tprev = s ;
  g.talking = s ;
  return 1 ;
}

static void untalk (slot *s)
{
  if (s->tprev) s->tprev->tnext = s->tnext ; else g.talking = s->tnext ;
  if (s->tnext) s->tnext->tprev = s->tprev ;
  s->tprev = s->tnext = 0 ;
  unixconnection_free(s->helper) ;
  alloc_free(s->helper) ;
  s->helper = 0 ;
}

 /* Nothing expected, nothing queued, nothing buffered: the conversation's memory goes. */
static void hush (slot *s)
{
  if (!s->helper) return ;
  if (!unixmessage_sender_isempty(&s->helper->out) || !cbuffer_isempty(&s->helper->in.mainb)) return ;
  untalk(s) ;
  watch(s) ;
}

static void close_helper_socket (slot *s)
{
  if (s->helper) untalk(s) ;
  unwatch(s) ;
  if (s->helperfd >= 0) fd_close(s->helperfd) ;
  s->helperfd = -1 ;
}

 /* The helper exits on end of file; TERM is for one busy reserving a big region. */
void slot_stop_helper (slot *s)
{
  close_helper_socket(s) ;
  if (s->pid > 0)
  {
    avltreen_delete(&g.helpers, &s->pid) ;
    kill(s->pid, SIGTERM) ;
  }
  s->pid = 0 ;
}

void slot_drop_fd (slot *s)
{
  if (s->fd >= 0) fd_close(s->fd) ;
  s->fd = -1 ;
  keep_slot_drop(s) ;
}

 /*
   Our copy of a resource a lease has had, when no helper is left to
   scrub it: the ex-holder, or a child it gave its fd to, may still
   have one, so it is emptied here before it goes. That costs the loop
   a punch or a truncation, only when a helper could not do it.
*/
static void drop_used (slot *s)
{
  uint64_t held ;
  if (s->fd >= 0 && !hp_resource_empty(s->fd, &held))
    strerr_warnwu2sys("empty the old resource of pool ", s->pool->conf.name) ;
  slot_drop_fd(s) ;
}

 /*
   A resource in s->fd would be held for good once overwritten: where
   one comes, none may be there. The sanitizer build dies of it, so
   that the tests see it; otherwise it is dropped, and said.
*/
static void fd_none (slot *s)
{
  if (s->fd < 0) return ;
#ifdef HP_TREE_CHECKS
  strerr_dief3x(111, "a slot of pool ", s->pool->conf.name, " still has a resource where a new one comes") ;
#else
  strerr_warnw3x("a slot of pool ", s->pool->conf.name, " still had a resource where a new one came: dropped") ;
  drop_used(s) ;
#endif
}

 /*
   The fd a new holder gets. The slot keeps its own copy for the lease's
   end: should the helper be gone by then, holdingpend empties the
   resource itself. -1: none (a ballast is never handed out).
*/
int slot_hand_out (slot *s)
{
  int fd ;
  if (s->fd < 0 || !hp_kind_isfd(s->pool->conf.kind)) return -1 ;
   /* marked until it is emptied: never taken back for a ready one (hp_resource_mark.c) */
  if (!hp_resource_mark(s->fd, 1)) strerr_warnwu3sys("mark a granted resource of pool ", s->pool->conf.name, " as handed out") ;
  fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0) ;
  if (fd >= 0) return fd ;
  strerr_warnwu3sys("keep a copy of a granted resource of pool ", s->pool->conf.name, ", only its helper can scrub it") ;
  fd = s->fd ;
  s->fd = -1 ;
  return fd ;
}

/*
   The respawn timer: backoff after repeated deaths. A helper that
   holdingpend could not spawn or talk to for want of memory is not at
   fault: no backoff for it, but not at once either. A held slot stays
   held: only a kept resource's helper (adopt) is spawned for one.
*/
static void schedule_respawn (slot *s, int nomem)
{
  tain when ;
  unsigned int ms = 0 ;
  if (s->deaths > 1)
  {
    ms = 100U << (s->deaths > 10 ? 10 : s->deaths - 2) ;
    if (ms > RESPAWN_MAX_MS) ms = RESPAWN_MAX_MS ;
  }
   /* killed by SIGKILL, likely the OOM killer: never straight back into the same squeeze */
  if (s->killed && ms < RESPAWN_KILLED_MS) ms = RESPAWN_KILLED_MS ;
  if (nomem && ms < RESPAWN_NOMEM_MS) ms = RESPAWN_NOMEM_MS ;
  tain_in_ms(&when, ms) ;
  if (s->state != SLOT_HELD) slot_setstate(s, SLOT_DOWN) ;
  timer_set(&s->respawn, &when) ;
}

 /* A helper just spawned that cannot be used: it goes (ours, not reaped yet: its pid is its own), the slot is retried. */
static void spawn_undo (slot *s, pid_t pid, int fd, char const *why)
{
  int nomem = errno == ENOMEM ;
  strerr_warnwu2sys(why, ", the helper is stopped and spawned again") ;
  if (fd >= 0) fd_close(fd) ;
  kill(pid, SIGTERM) ;
  if (!nomem) s->deaths++ ;
  schedule_respawn(s, nomem) ;
}

void slot_spawn (slot *s)
{
  hp_poolconf const *conf = &s->pool->conf ;
  char const *argv[13] ;
  char fmt[UINT64_FMT] ;
  unsigned int m = 0 ;
  int fd ;
  pid_t pid ;
  timer_cancel(&s->respawn) ;
  if (!s->holder) fd_none(s) ;
  fmt[uint64_fmt(fmt, conf->size)] = 0 ;
  argv[m++] = g.helper ;
   /* -R: this holdingpen understands short reasons and leak reports */
  argv[m++] = "-R" ;
   /* -P: its resource comes with r whatever the kind, to be kept; -A: it takes one over */
  if (g.keeppath) argv[m++] = "-P" ;
  if (s->adopt >= 0) argv[m++] = "-A" ;
  if (conf->lock) argv[m++] = "-l" ;
  if (conf->dir[0]) { argv[m++] = "-D" ; argv[m++] = conf->dir ; }
  argv[m++] = "-p" ;
  argv[m++] = conf->name ;
  argv[m++] = hp_kind_names[conf->kind] ;
  argv[m++] = fmt ;
  argv[m++] = 0 ;
  pid = child_spawn1_socket(g.helper, argv, g.envp, &fd) ;
  if (!pid)
  {
    int nomem = errno == ENOMEM ;
    strerr_warnwu2sys("spawn ", g.helper) ;
    if (!nomem) s->deaths++ ;
    schedule_respawn(s, nomem) ;
    return ;
  }
  if (ndelay_on(fd) < 0)
  {
    spawn_undo(s, pid, fd, "make a helper socket non-blocking") ;
    return ;
  }
   /* the conversation first: a helper in the tree is one we can talk to */
  s->helperfd = fd ;
  if (!talk(s))
  {
    s->helperfd = -1 ;
    spawn_undo(s, pid, fd, "allocate a helper connection") ;
    return ;
  }
  s->pid = pid ;
   /* slot_room made room for every slot's helper: a full tree is a bug */
  if (!avltreen_insert(&g.helpers, s->index))
  {
#ifdef HP_TREE_CHECKS
    strerr_dief1x(111, "the helper tree is full") ;
#endif
    s->pid = 0 ;
    close_helper_socket(s) ;
    errno = ENOSPC ;
    spawn_undo(s, pid, -1, "record a helper, the helper tree is full") ;
    return ;
  }
  s->stale = 0 ;
  log_slot("helper-spawn", s) ;
   /*
     A resource kept across a restart goes to the new helper: a ready one
     it checks and hands back with r, a held one it keeps for the scrub at
     the lease's end. Our copy goes with the message.
   */
  if (s->adopt >= 0)
  {
    char cmd = s->holder ? HOLDINGPEN_HELPER_ADOPT_HELD : HOLDINGPEN_HELPER_ADOPT ;
    int adopt = s->adopt ;
    s->adopt = -1 ;
     /* a held one, as lease_answer would: our copy, for the lease's end */
    if (s->holder && s->fd < 0) s->fd = fcntl(adopt, F_DUPFD_CLOEXEC, 0) ;
    if (!slot_tell(s, &cmd, 1, adopt)) strerr_warnwu1sys("hand a kept resource to a helper") ;
  }
   /* a held slot's new helper has nothing to say until the lease ends */
  if (s->holder && s->state == SLOT_HELD) hush(s) ;
  else slot_setstate(s, SLOT_PREPARING) ;
}

 /* A message to the helper, with fd (-1: none), which goes with it whatever happens. */
int slot_tell (slot *s, char const *msg, size_t len, int fd)
{
  unixmessage m = { .s = (char *)msg, .len = len, .fds = &fd, .nfds = fd >= 0 } ;
  if (s->helperfd < 0) errno = ENOTCONN ;
  if (s->helperfd < 0 || !talk(s)
   || !unixmessage_put_and_close(&s->helper->out, &m, fd >= 0 ? unixmessage_bits_closeall : unixmessage_bits_closenone))
  {
    if (fd >= 0) fd_close(fd) ;
    return 0 ;
  }
  if (!unixmessage_sender_flush(&s->helper->out) && !error_isagain(errno)) return 0 ;
  return 1 ;
}

void slot_remove (slot *s)
{
  slot_stop_helper(s) ;
  slot_drop_fd(s) ;
  timer_cancel(&s->respawn) ;
  s->holder = 0 ;
  slot_setstate(s, SLOT_GONE) ;
  setshort(s, 0) ;
  slot_settle(s) ;
  s->next = g.graveyard ;
  g.graveyard = s ;
}

 /*
   Out of date or going, and free: the helper stops, the resource goes
   (never handed out, or emptied already), and the slot is removed or
   made anew with its pool's configuration.
*/
void slot_remake (slot *s)
{
  slot_stop_helper(s) ;
  slot_drop_fd(s) ;
   /* a kept resource its helper never had: used, it goes; the slot is reserved anew */
  if (s->adopt >= 0) { fd_close(s->adopt) ; s->adopt = -1 ; }
  if (s->retire)
  {
    slot_remove(s) ;
    return ;
  }
  if (s->settled) { s->settled = 0 ; g.unsettled++ ; }
  s->deaths = 0 ;
  slot_spawn(s) ;
}

 /*
   A lease is over: every resource is emptied before anything else,
   whatever a reload did meanwhile. The helper scrubs, then reserves
   again (e), or exits (q) if the slot is out of date or going; its
   answer, r or its exit, says the scrub is done. With no helper to
   tell, holdingpend empties its own copy.
*/
void slot_recycle (slot *s)
{
  s->holder = 0 ;
  if (s->pid)
  {
    char msg[HOLDINGPEN_HELPER_EMPTY_LEN] ;
    msg[0] = s->stale || s->retire ? HOLDINGPEN_HELPER_QUIT : HOLDINGPEN_HELPER_EMPTY ;
    uint64_pack_big(msg + HOLDINGPEN_HELPER_EMPTY_LEASE, s->lease) ;
    slot_setstate(s, SLOT_SCRUBBING) ;
    if (slot_tell(s, msg, sizeof(msg), -1)) return ;
    strerr_warnwu1sys("tell a helper to scrub") ;
  }
  drop_used(s) ;
  slot_remake(s) ;
}

 /* A helper gone in the middle of a ballast grant holds no ballast: the grant goes on. */
static void granting_lost (slot *s)
{
  if (s->holder) lease_answer(s->holder, s) ;
  else slot_recycle(s) ;
}

 /*
   The helper is gone, dead or stopped for breaking the protocol or for
   want of memory: a held slot waits for its lease's end, a ballast grant
   goes on, a retired slot goes, a failed one stays failed, any other is
   respawned.
*/
static void helper_lost (slot *s, unsigned int why)
{
  if (why != LOST_NOMEM) s->deaths++ ;
  switch (s->state)
  {
    case SLOT_HELD :
       /* the holder keeps its lease; when it ends, we empty our copy and a new helper comes */
      return ;
    case SLOT_GRANTING :
      granting_lost(s) ;
      return ;
    case SLOT_SCRUBBING :
       /* it may have died before it scrubbed */
      drop_used(s) ;
      break ;
    default : break ;
  }
  slot_drop_fd(s) ;
  setshort(s, 0) ;
  if (s->retire)
  {
    slot_remove(s) ;
    return ;
  }
  if (why == LOST_FAILED)
  {
    slot_setstate(s, SLOT_FAILED) ;
    slot_settle(s) ;
    return ;
  }
  schedule_respawn(s, why == LOST_NOMEM) ;
}

static void helper_died (slot *s, int wstat)
{
  int failed = WIFEXITED(wstat) && WEXITSTATUS(wstat) == 100 ;
   /* told q: it scrubbed and went, as asked */
  int quit = s->state == SLOT_SCRUBBING && (s->stale || s->retire) && WIFEXITED(wstat) && !WEXITSTATUS(wstat) ;
  close_helper_socket(s) ;
  if (quit) log_slot("helper-scrubbed", s) ;
  else log_helper_death(s, failed, wstat) ;
  s->killed = WIFSIGNALED(wstat) && WTERMSIG(wstat) == SIGKILL ;
  if (!failed && !quit) g.count.helpercrashes++ ;
  s->pid = 0 ;
  if (quit) slot_remake(s) ;
  else helper_lost(s, failed ? LOST_FAILED : LOST_CRASH) ;
}

void slot_reap (void)
{
  for (;;)
  {
    int wstat ;
    uint32_t i ;
    pid_t pid = wait_nohang(&wstat) ;
    if (pid <= 0) return ;
    if (!avltreen_search(&g.helpers, &pid, &i)) continue ;
    avltreen_delete(&g.helpers, &pid) ;
    helper_died(slot_of_index(i), wstat) ;
  }
}

static void protocol_error (slot *s)
{
  log_slot("helper-error", s) ;
  slot_stop_helper(s) ;
  helper_lost(s, LOST_CRASH) ;
}

 /*
   No memory to hear a helper out: what it said is lost with its
   conversation (skalibs' receiver cannot go on after a failed
   allocation), so it is stopped, as for a protocol error, and its slot
   respawned without backoff (or, held, remade at its lease's end).
*/
static void helper_starved (slot *s)
{
  log_slot("helper-nomem", s) ;
  slot_stop_helper(s) ;
  helper_lost(s, LOST_NOMEM) ;
}

static int reason_valid (char const *s, size_t len)
{
  if (!len || len > HOLDINGPEN_HELPER_REASON_MAX) return 0 ;
  for (size_t i = 0 ; i < len ; i++) if (s[i] < 'a' || s[i] > 'z') return 0 ;
  return 1 ;
}

 /* l lease bytes: someone wrote into an ended lease's file; the helper freed it again */
static int leak_report (slot *s, unixmessage const *m)
{
  uint64_t lease, bytes ;
  if (m->len != HOLDINGPEN_HELPER_LEAK_LEN || m->nfds) return 0 ;
  uint64_unpack_big(m->s + HOLDINGPEN_HELPER_LEAK_LEASE, &lease) ;
  uint64_unpack_big(m->s + HOLDINGPEN_HELPER_LEAK_BYTES, &bytes) ;
  s->pool->leaked += bytes ;
  log_leak(s, lease, bytes) ;
  return 1 ;
}

static int helper_message (slot *s, unixmessage const *m)
{
  char c = m->len == 1 ? m->s[0] : 0 ;
  int preparing = s->state == SLOT_PREPARING || s->state == SLOT_SCRUBBING ;
   /* s alone (reason unknown) or s and its reason word */
  if (m->len && m->s[0] == HOLDINGPEN_HELPER_SHORT && preparing && !m->nfds
   && (m->len == 1 || reason_valid(m->s + HOLDINGPEN_HELPER_SHORT_REASON, m->len - HOLDINGPEN_HELPER_SHORT_REASON)))
  {
    memcpy(s->shortwhy, m->s + HOLDINGPEN_HELPER_SHORT_REASON, m->len - HOLDINGPEN_HELPER_SHORT_REASON) ;
    s->shortwhy[m->len - HOLDINGPEN_HELPER_SHORT_REASON] = 0 ;
    setshort(s, 1) ;
    log_short_slot(s) ;
    return 1 ;
  }
  if (m->len && m->s[0] == HOLDINGPEN_HELPER_LEAK) return leak_report(s, m) ;
  if (c == HOLDINGPEN_HELPER_READY && preparing && m->nfds == (hp_kind_isfd(s->pool->conf.kind) || g.keeppath ? 1U : 0U))
  {
     /* our copy of the ended lease's resource, which the helper has just emptied */
    if (s->state == SLOT_SCRUBBING) slot_drop_fd(s) ;
    fd_none(s) ;
    s->fd = m->nfds ? m->fds[0] : -1 ;
     /* emptied now, or new: whoever holds it may be told it is ready, and it may be kept as such */
    if (s->fd >= 0 && !hp_resource_mark(s->fd, 0))
      strerr_warnwu3sys("clear the mark of a scrubbed resource of pool ", s->pool->conf.name, ", it is not kept") ;
    else keep_slot(s) ;
    s->deaths = 0 ;
    setshort(s, 0) ;
    slot_settle(s) ;
    slot_setstate(s, SLOT_READY) ;
    log_slot("helper-ready", s) ;
    if (s->stale || s->retire) slot_remake(s) ;
    else claim_dispatch(s->pool) ;
    return 1 ;
  }
  if (c == HOLDINGPEN_HELPER_FREED && !m->nfds && s->state == SLOT_GRANTING)
  {
    granting_lost(s) ;
    return 1 ;
  }
  unixmessage_drop(m) ;
  return (errno = EPROTO, 0) ;
}

void slot_read (slot *s)
{
  for (unsigned int n = 0 ; n < UNIXMESSAGE_MAXREADS && s->helper ; n++)
  {
    unixmessage m ;
    int r = unixmessage_receive(&s->helper->in, &m) ;
    if (!r) break ;
    if (r < 0)
    {
       /* the helper is exiting, with or without unread bytes: SIGCHLD will say why */
      if (errno == EPIPE || errno == ECONNRESET) close_helper_socket(s) ;
      else if (errno == ENOMEM) helper_starved(s) ;
      else protocol_error(s) ;
      return ;
    }
    if (!helper_message(s, &m)) { protocol_error(s) ; return ; }
  }
  if (s->state != SLOT_PREPARING && s->state != SLOT_SCRUBBING && s->state != SLOT_GRANTING) hush(s) ;
}

 /* A quiet helper spoke: hear it out, then it goes quiet again. */
void slot_wake (slot *s)
{
  if (s->helperfd < 0 || s->state == SLOT_GONE) return ;
   /* its socket stays readable: without a conversation it would wake the loop every turn */
  if (!talk(s)) { helper_starved(s) ; return ; }
  slot_read(s) ;
}

void slot_write (slot *s)
{
  if (!s->helper) return ;
  if (!unixmessage_sender_flush(&s->helper->out) && !error_isagain(errno)) protocol_error(s) ;
}

 /* Slots are freed only here, at the end of a loop turn, so that nothing in the turn holds a dangling pointer. */
void slot_collect (void)
{
  while (g.graveyard)
  {
    slot *s = g.graveyard ;
    pool *p = s->pool ;
    size_t n = NSLOTS(p), j = 0 ;
    g.graveyard = s->next ;
    for (size_t i = 0 ; i < n ; i++) if (SLOTS(p)[i] != s) SLOTS(p)[j++] = SLOTS(p)[i] ;
    genalloc_setlen(slot *, &p->slots, j) ;
    p->nslots[SLOT_GONE]-- ;
    *(slot **)gensetdyn_p(&g.slots, s->index) = 0 ;
    gensetdyn_delete(&g.slots, s->index) ;
    alloc_free(s) ;
  }
}

void slot_init (void)
{
  gensetdyn_init(&g.slots, sizeof(slot *), 16, 3, 8) ;
  if (!hp_tree_init(&g.helpers, 16, &pid_dtok, &pid_cmp, 0)) strerr_diefu1sys(111, "allocate the helper tree") ;
}
