/* ISC license. */

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <fcntl.h>
#include <sys/epoll.h>

#include <skalibs/uint64.h>
#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>
#include <skalibs/tai.h>
#include <skalibs/avltreen.h>

#include "holdingpend-internal.h"

 /*
   A lease is a client's connection once a slot is granted to it: it
   lasts until the last copy of that connection closes. Expiry and revoke
   end it with the careful kill of its holder.
*/

 /* The system clock in milliseconds: what the fd holder keeps means the same to the next holdingpend. */
static uint64_t wall_ms (void)
{
  struct timespec ts ;
  clock_gettime(CLOCK_REALTIME, &ts) ;
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 ;
}

 /*
   When a lease expires, from its start and the expiry it was granted
   with, both kept on the system clock: the deadline follows the loop's
   clock from the start, so that a step of the system clock neither
   shortens nor lengthens it. 0: it never expires.
*/
int lease_expiry (client const *c, tain *t)
{
  uint64_t ms ;
  tain d ;
  if (!c->expirewall) return 0 ;
   /* a kept record may say anything: an expiry before the start is now */
  ms = c->expirewall > c->sincewall ? c->expirewall - c->sincewall : 0 ;
  tai_u64(&d.sec, ms / 1000) ;
  d.nano = (uint32_t)(ms % 1000) * 1000000 ;
  tain_add(t, &c->since, &d) ;
  return 1 ;
}

static void start (client *c, slot *s)
{
  pool *p = s->pool ;
  client_setstate(c, CLIENT_HOLDING) ;
   /* polled until the end of the next turn, then quiet (client.c) */
  c->quietin = 2 ;
  slot_setstate(s, SLOT_HELD) ;
  tain_copynow(&c->since) ;
  c->killstep = 0 ;
  c->killwall = 0 ;
  c->sincewall = wall_ms() ;
  c->expirewall = p->conf.expire ? c->sincewall + (uint64_t)p->conf.expire * 1000 : 0 ;
  {
    tain expire ;
    if (lease_expiry(c, &expire)) timer_set(&c->deadline, &expire) ;
    else timer_cancel(&c->deadline) ;
  }
  claim_record(p, c->uid) ;
  g.count.granted++ ;
  log_lease(LEASE_GRANT, c) ;
}

 /* The answer of a granted claim: the slot's fd goes with it (slot_hand_out). */
void lease_answer (client *c, slot *s)
{
  hp_poolconf const *conf = &s->pool->conf ;
  char const *kind = hp_kind_names[conf->kind] ;
  size_t kindlen = strlen(kind) ;
  char buf[HOLDINGPEN_GRANT_KIND + kindlen + 1] ;
  int fd = slot_hand_out(s) ;
  buf[0] = HOLDINGPEN_OK ;
  uint64_pack_big(buf + HOLDINGPEN_GRANT_LEASE, c->lease) ;
  uint64_pack_big(buf + HOLDINGPEN_GRANT_SIZE, conf->size) ;
  memcpy(buf + HOLDINGPEN_GRANT_KIND, kind, kindlen + 1) ;
  start(c, s) ;
   /* lease_room made room for it: this is a bug, the lease ends at once rather than hold a slot unanswered */
  if (!client_answer(c, buf, sizeof(buf), fd >= 0 ? &fd : 0))
  {
    if (g.verbosity) strerr_warnwu1sys("answer a claim") ;
    lease_end(c, LEASE_END) ;
    return ;
  }
   /*
     The lease's records go after its answer: the slot's ready record is
     gone already (keep_grantable), so a crash in between leaves neither
     record, and the client does not wait for the fd holder's wake-up.
   */
  keep_lease(c) ;
  client_poll(c) ;
}

 /* Leases are found by id through a tree of every client that has one: revoke and restore never walk the clients. */

static void *lease_dtok (uint32_t d, void *aux)
{
  (void)aux ;
  return &CLIENT(d)->lease ;
}

static int lease_cmp (void const *a, void const *b, void *aux)
{
  uint64_t la = *(uint64_t const *)a ;
  uint64_t lb = *(uint64_t const *)b ;
  (void)aux ;
  return la < lb ? -1 : la > lb ;
}

 /*
   The tree grows with the leases held (lease_tree_room, called before
   anything changes): numbering a lease never allocates. Lease ids never
   repeat across restarts: a lease granted just before a crash, whose
   record the fd holder did not get, is unknown to the next holdingpend,
   and an administrator who read its id in the log must not revoke
   another lease by it. So the first id of a run follows the start time
   in microseconds (a run hands out far fewer than one lease a
   microsecond), or the highest id taken back.
*/
void lease_init (void)
{
  struct timespec ts ;
  if (!hp_tree_init(&g.leases, LEASES_FIRST, &lease_dtok, &lease_cmp, 0)) strerr_diefu1sys(111, "allocate the lease tree") ;
  clock_gettime(CLOCK_REALTIME, &ts) ;
  g.nextlease = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 ;
}

 /* Room in the tree for one lease more; 0 and ENOMEM, the tree as it was, if none can be had. */
int lease_tree_room (void)
{
  return hp_tree_reserve(&g.leases, avltreen_len(&g.leases) + 1) ;
}

client *lease_find (uint64_t id)
{
  uint32_t i ;
  return avltreen_search(&g.leases, &id, &i) ? CLIENT(i) : 0 ;
}

 /* 0 if another client has this lease already (a forged or doubled record at a restart). */
int lease_number (client *c, uint64_t id)
{
  if (lease_find(id)) return 0 ;
  c->lease = id ;
  if (!avltreen_insert(&g.leases, c->index)) strerr_dief1x(111, "the lease tree is full") ;
  c->numbered = 1 ;
  return 1 ;
}

void lease_unnumber (client *c)
{
  if (!c->numbered) return ;
  avltreen_delete(&g.leases, &c->lease) ;
  c->numbered = 0 ;
}

/*
   Room for all a grant needs, made before anything changes: its answer
   in the client's sender (so that it cannot fail to be queued, even when
   a ballast's answer comes later), its record among the pool's recent
   claims, its place in the lease tree. 0: none could be had.
*/
static int lease_room (client *c, slot const *s)
{
  hp_poolconf const *conf = &s->pool->conf ;
  return client_answer_room(c, HOLDINGPEN_GRANT_KIND + strlen(hp_kind_names[conf->kind]) + 1, hp_kind_isfd(conf->kind))
   && claim_record_room(s->pool, c->uid)
   && lease_tree_room() ;
}

/*
   0: for want of memory, nothing was done, nothing changed: the slot is
   as ready as it was, and the caller refuses the claim.
*/
int lease_grant (client *c, slot *s)
{
  int ballast = !hp_kind_isfd(s->pool->conf.kind) ;
  int told = 1, e = 0 ;
   /* a waiter has joined its pool already; a claim granted at once joins it here */
  if (!lease_room(c, s) || (!c->pool && !pool_join(s->pool, c))) goto nomem ;
   /* ballast: the memory or disk must be free before the program starts */
  if (ballast)
  {
    told = helper_tell(s, (char const []){ HOLDINGPEN_HELPER_GIVE }, 1, -1) ;
    e = errno ;
     /* for want of memory, nothing was said: the helper holds its ballast still */
    if (!told && e == ENOMEM) goto nomem ;
  }
  c->slot = s ;
  s->holder = c ;
  lease_number(c, ++g.nextlease) ;
  s->lease = c->lease ;
  timer_cancel(&c->deadline) ;
  if (!ballast)
  {
     /* it holds from its answer on (start) */
    lease_answer(c, s) ;
    return 1 ;
  }
  client_setstate(c, CLIENT_GRANTING) ;
  slot_setstate(s, SLOT_GRANTING) ;
  client_poll(c) ;
  if (!told)
  {
    errno = e ;
    if (g.verbosity) strerr_warnwu1sys("tell a helper to free its ballast") ;
    helper_stop(s) ;
    lease_answer(c, s) ;
  }
  return 1 ;
 nomem:
   /* keep_grantable may have dropped its ready record: it is kept again */
  keep_slot(s) ;
  return 0 ;
}

void lease_end (client *c, unsigned int event)
{
  slot *s = c->slot ;
  log_lease(event, c) ;
  keep_lease_drop(c) ;
  client_close(c) ;
  slot_recycle(s) ;
}

 /*
   Whether root may still send sig to a lease's holder for its user.
   The kernel lets an unprivileged user signal a process whose real or
   saved uid is its own (kill(2)): a holder that has exec'd a set-uid
   program since it connected may be root's now, and root must not do
   for the user what the kernel would refuse it. So before each signal
   the holder's uids are read again, through its pidfd. A lease of uid
   0 is exempt: root may signal anything itself. 1: it may; 0: it may
   not, or the holder is gone; a refusal is logged.
*/

static int holder_may_signal (client const *c, int sig)
{
  uid_t u[4] ;
  if (!c->uid) return 1 ;
  if (!hp_pidfd_uids(c->pidfd, u))
  {
    if (errno != ESRCH) log_kill_refused(c, sig, 0) ;
    return 0 ;
  }
  if (u[0] == c->uid || u[2] == c->uid) return 1 ;
  log_kill_refused(c, sig, u) ;
  return 0 ;
}

 /*
   The careful kill: CONT (a stopped holder must be able to act on what
   follows), INT, TERM, KILL, killdelay apart, stopping as soon as the
   holder is gone; one more killdelay after KILL, the lease ends anyway.
*/
static void kill_step (client *c)
{
  static int const sigs[4] = { SIGCONT, SIGINT, SIGTERM, SIGKILL } ;
  tain next ;
  if (c->killstep >= 4 || c->pidfd < 0 || hp_pidfd_exited(c->pidfd)
   || !holder_may_signal(c, sigs[c->killstep]))
  {
    lease_end(c, LEASE_END) ;
    return ;
  }
   /* kept first: a new holdingpend goes on after this signal, never sends it again */
  keep_lease_kill(c, c->killstep + 1) ;
  {
     /* EPERM (a daemon not run as root) still means the holder is there */
    int sent = hp_pidfd_signal(c->pidfd, sigs[c->killstep]) == 0 ;
    log_kill(c, sigs[c->killstep], sent, errno) ;
    if (sent) g.count.signals++ ;
  }
  c->killstep++ ;
  tain_addsec_g(&next, c->pool->conf.killdelay) ;
  timer_set(&c->deadline, &next) ;
}

 /* During the careful kill, the holder's death ends the lease at once, even if a child still has the connection. */
static void watch_holder (client *c)
{
  struct epoll_event ev = { .events = EPOLLIN, .data = { .u32 = WATCH_PIDFD | c->index } } ;
  if (c->pidfd >= 0 && !c->pidwatched && epoll_ctl(g.epfd, EPOLL_CTL_ADD, c->pidfd, &ev) == 0) c->pidwatched = 1 ;
}

static void kill_start (client *c, unsigned int event)
{
  if (c->killstep) return ;
  log_lease(event, c) ;
  watch_holder(c) ;
  c->killwall = wall_ms() ;
  kill_step(c) ;
}

 /*
   The holder's pidfd says it is gone: the careful kill is over. If its
   death also closed the connection, that is a release, as it would be
   without the kill.
*/
void lease_holder_gone (client *c)
{
  struct pollfd p = { .fd = client_fd(c), .events = POLLIN, .revents = 0 } ;
  if (c->state != CLIENT_HOLDING || !c->killstep) return ;
  lease_end(c, poll(&p, 1, 0) > 0 ? LEASE_RELEASE : LEASE_END) ;
}

 /* A lease's timer: its expiry, or the next step of its careful kill. */
void lease_timer (client *c)
{
  if (c->killstep) kill_step(c) ;
  else
  {
    g.count.expired++ ;
    kill_start(c, LEASE_EXPIRE) ;
  }
}

void lease_revoke (client *c, hp_request const *req)
{
  client *target ;
  if (!c->canadmin)
  {
    refuse(c, 0, REFUSAL_ADMIN, 0, 0) ;
    return ;
  }
  target = lease_find(req->lease) ;
  if (!target || target->state != CLIENT_HOLDING)
  {
    client_refuse(c, HOLDINGPEN_NOENT, 0, 0) ;
    return ;
  }
  {
    char code = HOLDINGPEN_OK ;
     /* the answer first: a revoke not said is not done */
    if (!client_reply(c, &code, 1, "revoke")) return ;
  }
  if (!target->killstep) g.count.revoked++ ;
  kill_start(target, LEASE_REVOKE) ;
}

 /* A system clock time in milliseconds, as a deadline of ours: never earlier than it says. */
static void tain_of_wall (tain *t, uint64_t wall)
{
  uint64_t now = wall_ms() ;
  tain d ;
  if (wall >= now)
  {
    tain_from_millisecs(&d, (int)(wall - now > 0x7fffffff ? 0x7fffffff : wall - now)) ;
    tain_add(t, &STAMP, &d) ;
  }
  else
  {
    tain_from_millisecs(&d, (int)(now - wall > 0x7fffffff ? 0x7fffffff : now - wall)) ;
    tain_sub(t, &STAMP, &d) ;
  }
}

 /*
   A lease a previous holdingpend kept (restore.c filled c in): held
   again, with its id, holder, age and expiry. A careful kill under way
   goes on with the signal after the last one kept as sent, at the time
   it was due: no signal twice, none skipped.
*/
void lease_restore (client *c)
{
  slot *s = c->slot ;
  pool *p = s->pool ;
  s->lease = c->lease ;
   /* at start, before readiness */
  if (!pool_join(p, c)) strerr_diefu1sys(111, "count a kept lease") ;
  slot_setstate(s, SLOT_HELD) ;
  slot_settle(s) ;
  client_setstate(c, CLIENT_HOLDING) ;
  tain_of_wall(&c->since, c->sincewall) ;
  if (c->killwall)
  {
    uint64_t k = 1000 * (uint64_t)(p->conf.killdelay ? p->conf.killdelay : 1) ;
    tain next ;
    if (c->killstep == KEEP_STEP_FROM_TIME)
    {
       /* 0.2 did not say how far it went: the steps whose time has come are taken as sent */
      uint64_t now = wall_ms() ;
      uint64_t steps = (now > c->killwall ? now - c->killwall : 0) / k + 1 ;
      c->killstep = steps > 4 ? 4 : (unsigned int)steps ;
    }
    tain_of_wall(&next, c->killwall + c->killstep * k) ;
    timer_set(&c->deadline, &next) ;
    watch_holder(c) ;
  }
  else
  {
    tain expire ;
    if (lease_expiry(c, &expire)) timer_set(&c->deadline, &expire) ;
  }
  log_lease(LEASE_RESTORED, c) ;
  client_poll(c) ;
}
