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

 /*
   A slot is one resource and the helper process that owns it: its
   states, its pool's ready list, what becomes of it when a lease ends
   or its helper goes. The conversation with the helper is helper.c's.
*/

char const *const slot_state_names[] = { "down", "preparing", "ready", "granting", "held", "scrubbing", "failed", "gone" } ;

 /* The slot at index i of g.slots, 0 if there is none now (keep.c asks about slots that may be gone). */
slot *slot_of_index (uint32_t i)
{
  if (i >= g.slots.storage.len) return 0 ;
  return *(slot **)gensetdyn_p(&g.slots, i) ;
}

void slot_settle (slot *s)
{
  if (s->settled) return ;
  s->settled = 1 ;
  g.unsettled-- ;
}

static ilink *slot_rlink (uint32_t i)
{
  return &slot_of_index(i)->rlink ;
}

ilink *slot_tlink (uint32_t i)
{
  return &slot_of_index(i)->tlink ;
}

static void ready_remove (slot *s)
{
  if (!s->inlist) return ;
  ilist_remove(&s->pool->ready, s->index, &slot_rlink) ;
  s->inlist = 0 ;
}

 /* The oldest ready slot is granted first: appended at the tail. */
static void ready_append (slot *s)
{
  if (s->inlist) return ;
  ilist_append(&s->pool->ready, s->index, &slot_rlink) ;
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
  s->rlink = s->tlink = (ilink)ILINK_ZERO ;
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
  if (g.verbosity) strerr_warnw3x("no room for a slot of pool ", p->conf.name, " where room was made: it is short of one") ;
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

static void slot_drop_fd (slot *s)
{
#ifdef HP_TREE_CHECKS
   /* a holder's answer may still carry s->fd (slot_hand_out): it never outlives its client */
  if (s->fd >= 0 && s->holder && !unixmessage_sender_isempty(&s->holder->out))
    strerr_dief3x(111, "a slot of pool ", s->pool->conf.name, " drops the resource its holder's answer still carries") ;
#endif
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
  if (s->fd >= 0 && !hp_resource_empty(s->fd, &held) && g.verbosity)
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
  if (g.verbosity) strerr_warnw3x("a slot of pool ", s->pool->conf.name, " still had a resource where a new one came: dropped") ;
  drop_used(s) ;
#endif
}

 /*
   The fd a new holder gets: the slot's own, which the answer carries and
   does not close. The slot keeps it for the lease's end (should the
   helper be gone by then, holdingpend empties the resource itself), and
   nothing drops a held slot's resource before its lease has ended, which
   drops the answer first (client_close): so no copy is made for the
   answer. -1: none (a ballast is never handed out).
*/
int slot_hand_out (slot *s)
{
  if (s->fd < 0 || !hp_kind_isfd(s->pool->conf.kind)) return -1 ;
   /*
     marked until it is emptied: never taken back for a ready one
     (hp_resource_mark.c). Only a restart with -f takes resources back:
     without it, the mark would cost every claim an fchmod for nothing.
   */
  if (g.keeppath && !hp_resource_mark(s->fd, 1, &s->fdmode) && g.verbosity) strerr_warnwu3sys("mark a granted resource of pool ", s->pool->conf.name, " as handed out") ;
  return s->fd ;
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
  deadline_in_ms(&when, ms) ;
  if (s->state != SLOT_HELD) slot_setstate(s, SLOT_DOWN) ;
  timer_set(&s->respawn, &when) ;
}

void slot_spawn (slot *s)
{
  timer_cancel(&s->respawn) ;
  if (!s->holder) fd_none(s) ;
  if (!helper_spawn(s))
  {
    int nomem = errno == ENOMEM ;
    if (!nomem) s->deaths++ ;
    schedule_respawn(s, nomem) ;
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
    if (!helper_tell(s, &cmd, 1, adopt) && g.verbosity) strerr_warnwu1sys("hand a kept resource to a helper") ;
  }
   /* a held slot's new helper has nothing to say until the lease ends */
  if (s->holder && s->state == SLOT_HELD) helper_quiet(s) ;
  else slot_setstate(s, SLOT_PREPARING) ;
}

void slot_remove (slot *s)
{
  helper_stop(s) ;
  slot_drop_fd(s) ;
  timer_cancel(&s->respawn) ;
  s->holder = 0 ;
  slot_setstate(s, SLOT_GONE) ;
  setshort(s, 0) ;
  slot_settle(s) ;
  ilist_append(&g.graveyard, s->index, &slot_rlink) ;
}

 /*
   Out of date or going, and free: the helper stops, the resource goes
   (never handed out, or emptied already), and the slot is removed or
   made anew with its pool's configuration.
*/
void slot_remake (slot *s)
{
  helper_stop(s) ;
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
    if (helper_tell(s, msg, sizeof(msg), -1)) return ;
    if (g.verbosity) strerr_warnwu1sys("tell a helper to scrub") ;
  }
  drop_used(s) ;
  slot_remake(s) ;
}

 /*
   The helper freed its ballast (f), or is gone in the middle of a grant,
   which frees it as well: the grant goes on.
*/
void slot_freed (slot *s)
{
  if (s->holder) lease_answer(s->holder, s) ;
  else slot_recycle(s) ;
}

 /*
   The helper is gone, dead or stopped for breaking the protocol or for
   want of memory: a held slot waits for its lease's end, a ballast
   grant goes on, a retired slot goes, a failed one stays failed, any
   other is respawned.
*/
void slot_helper_lost (slot *s, unsigned int why)
{
  if (why != LOST_NOMEM) s->deaths++ ;
  switch (s->state)
  {
    case SLOT_HELD :
       /* the holder keeps its lease; when it ends, we empty our copy and a new helper comes */
      return ;
    case SLOT_GRANTING :
      slot_freed(s) ;
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

void slot_helper_exited (slot *s, int wstat)
{
  int failed = WIFEXITED(wstat) && WEXITSTATUS(wstat) == 100 ;
   /* told q: it scrubbed and went, as asked */
  int quit = s->state == SLOT_SCRUBBING && (s->stale || s->retire) && WIFEXITED(wstat) && !WEXITSTATUS(wstat) ;
  if (quit) log_slot("helper-scrubbed", s) ;
  else log_helper_death(s, failed, wstat) ;
  s->killed = WIFSIGNALED(wstat) && WTERMSIG(wstat) == SIGKILL ;
  if (!failed && !quit) g.count.helpercrashes++ ;
  s->pid = 0 ;
  if (quit) slot_remake(s) ;
  else slot_helper_lost(s, failed ? LOST_FAILED : LOST_CRASH) ;
}

 /* s, with a reason word of len bytes (0: unknown): the helper cannot reserve for now */
void slot_short (slot *s, char const *why, size_t len)
{
  memcpy(s->shortwhy, why, len) ;
  s->shortwhy[len] = 0 ;
  setshort(s, 1) ;
  log_short_slot(s) ;
}

 /* r: the resource is reserved, and fd (-1: none) is our copy of it */
void slot_ready (slot *s, int fd)
{
   /* our copy of the ended lease's resource, which the helper has just emptied */
  if (s->state == SLOT_SCRUBBING) slot_drop_fd(s) ;
  fd_none(s) ;
  s->fd = fd ;
  s->fdmode = 0 ;
   /* emptied now, or new: whoever holds it may be told it is ready, and it may be kept as such */
  if (s->fd >= 0 && g.keeppath && !hp_resource_mark(s->fd, 0, &s->fdmode))
  {
    if (g.verbosity) strerr_warnwu3sys("clear the mark of a scrubbed resource of pool ", s->pool->conf.name, ", it is not kept") ;
  }
  else keep_slot(s) ;
  s->deaths = 0 ;
  setshort(s, 0) ;
  slot_settle(s) ;
  slot_setstate(s, SLOT_READY) ;
  log_slot("helper-ready", s) ;
  if (s->stale || s->retire) slot_remake(s) ;
  else claim_dispatch(s->pool) ;
}

 /* Slots are freed only here, at the end of a loop turn, so that nothing in the turn holds a dangling pointer. */
void slot_collect (void)
{
  while (g.graveyard.head != ILIST_NONE)
  {
    slot *s = slot_of_index(g.graveyard.head) ;
    pool *p = s->pool ;
    size_t n = NSLOTS(p), j = 0 ;
    ilist_remove(&g.graveyard, s->index, &slot_rlink) ;
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
  helper_init() ;
}
