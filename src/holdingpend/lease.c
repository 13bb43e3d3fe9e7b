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

static void start (client *c, slot *s)
{
  pool *p = s->pool ;
  c->state = CLIENT_HOLDING ;
  slot_setstate(s, SLOT_HELD) ;
  tain_copynow(&c->since) ;
  c->killstep = 0 ;
  c->killwall = 0 ;
  c->sincewall = wall_ms() ;
  c->expirewall = p->conf.expire ? c->sincewall + (uint64_t)p->conf.expire * 1000 : 0 ;
  if (p->conf.expire)
  {
    tain_addsec_g(&c->expire, p->conf.expire) ;
    timer_set(&c->deadline, &c->expire) ;
  }
  else
  {
    c->expire = tain_infinite ;
    timer_cancel(&c->deadline) ;
  }
  claim_record(p, c->uid) ;
  g.count.granted++ ;
  log_lease("grant", c) ;
}

 /* The answer of a granted claim: a copy of the slot's fd goes with it (slot_hand_out). */
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
    if (fd >= 0) fd_close(fd) ;
    strerr_warnwu1sys("answer a claim") ;
    lease_end(c, "end") ;
    return ;
  }
   /*
     The lease's records go after its answer: the slot's ready record is
     gone already (keep_grantable), so a crash in between leaves neither
     record, and the client does not wait for the fd holder's wake-up.
   */
  keep_lease(c) ;
  client_settle(c) ;
}

/*
   Room for all a grant needs, made before anything changes: its answer
   in the client's sender (so that it cannot fail to be queued, even when
   a ballast's answer comes later), its record among the pool's recent
   claims. 0: none could be had.
*/
static int lease_room (client *c, slot const *s)
{
  hp_poolconf const *conf = &s->pool->conf ;
  return client_answer_room(c, HOLDINGPEN_GRANT_KIND + strlen(hp_kind_names[conf->kind]) + 1, hp_kind_isfd(conf->kind))
   && claim_record_room(s->pool, c->uid) ;
}

/*
   0: for want of memory, nothing was done, nothing changed: the slot is
   as ready as it was, and the caller refuses the claim.
*/
int lease_grant (client *c, slot *s)
{
  int ballast = !hp_kind_isfd(s->pool->conf.kind) ;
  int told = 1, e = 0 ;
  if (!lease_room(c, s)) goto nomem ;
   /* ballast: the memory or disk must be free before the program starts */
  if (ballast)
  {
    told = slot_tell(s, (char const []){ HOLDINGPEN_HELPER_GIVE }, 1, -1) ;
    e = errno ;
     /* for want of memory, nothing was said: the helper holds its ballast still */
    if (!told && e == ENOMEM) goto nomem ;
  }
  c->slot = s ;
  s->holder = c ;
  c->lease = ++g.nextlease ;
  s->lease = c->lease ;
  clist_append(&s->pool->holders, c->index, offsetof(client, plink)) ;
  timer_cancel(&c->deadline) ;
  if (!ballast)
  {
    c->state = CLIENT_HOLDING ;
    lease_answer(c, s) ;
    return 1 ;
  }
  c->state = CLIENT_GRANTING ;
  slot_setstate(s, SLOT_GRANTING) ;
  client_settle(c) ;
  if (!told)
  {
    errno = e ;
    strerr_warnwu1sys("tell a helper to free its ballast") ;
    slot_stop_helper(s) ;
    lease_answer(c, s) ;
  }
  return 1 ;
 nomem:
   /* keep_grantable may have dropped its ready record: it is kept again */
  keep_slot(s) ;
  return 0 ;
}

void lease_end (client *c, char const *event)
{
  slot *s = c->slot ;
  log_lease(event, c) ;
  keep_lease_drop(c) ;
  client_close(c) ;
  slot_recycle(s) ;
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
    lease_end(c, "end") ;
    return ;
  }
   /* kept first: a new holdingpend goes on after this signal, never sends it again */
  keep_lease_kill(c, c->killstep + 1) ;
  {
     /* EPERM (a daemon not run as root) still means the holder is there */
    int sent = holder_signal(c->pidfd, sigs[c->killstep]) == 0 ;
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

static void kill_start (client *c, char const *event)
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
  lease_end(c, poll(&p, 1, 0) > 0 ? "release" : "end") ;
}

 /* A lease's timer: its expiry, or the next step of its careful kill. */
void lease_timer (client *c)
{
  if (c->killstep) kill_step(c) ;
  else
  {
    g.count.expired++ ;
    kill_start(c, "expire") ;
  }
}

void lease_revoke (client *c, hp_request const *req)
{
  client *target = 0 ;
  if (!c->canadmin)
  {
    claim_deny(c, 0, "admin", HOLDINGPEN_DENIED, 0, 0) ;
    return ;
  }
  for (size_t i = 0 ; i < NPOOLS() && !target ; i++)
    for (uint32_t j = POOLS()[i]->holders.head ; j != CLIENT_NONE ; j = CLIENT(j)->plink.next)
      if (CLIENT(j)->state == CLIENT_HOLDING && CLIENT(j)->lease == req->lease) { target = CLIENT(j) ; break ; }
  if (!target)
  {
    client_refuse(c, HOLDINGPEN_NOENT, 0, 0) ;
    return ;
  }
  {
    char code = HOLDINGPEN_OK ;
     /* the answer first: a revoke not said is not done */
    if (!client_answer(c, &code, 1, 0))
    {
      client_nomem(c, "revoke", 0) ;
      return ;
    }
    client_settle(c) ;
  }
  if (!target->killstep) g.count.revoked++ ;
  kill_start(target, "revoke") ;
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
  clist_append(&p->holders, c->index, offsetof(client, plink)) ;
  slot_setstate(s, SLOT_HELD) ;
  slot_settle(s) ;
  c->state = CLIENT_HOLDING ;
  tain_of_wall(&c->since, c->sincewall) ;
  if (c->expirewall) tain_of_wall(&c->expire, c->expirewall) ;
  else c->expire = tain_infinite ;
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
  else if (c->expirewall) timer_set(&c->deadline, &c->expire) ;
  client_settle(c) ;
}
