/* ISC license. */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <skalibs/uint32.h>
#include <skalibs/genalloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>

#include "holdingpend-internal.h"

#define COMING_MS 1000

 /*
   Claim policy, in the order a claim meets it: the rules, the pool, too
   soon (ifelapsed), too many (maxperuid), then a ready slot, or the
   pool's wait queue, first come first served, until the deadline.
*/

static lastclaim *lastclaim_find (pool *p, uid_t uid)
{
  lastclaim *r = genalloc_s(lastclaim, &p->recent) ;
  size_t n = genalloc_len(lastclaim, &p->recent) ;
  for (size_t i = 0 ; i < n ; i++) if (r[i].uid == uid) return r + i ;
  return 0 ;
}

 /* Forget claims older than ifelapsed, so that the table stays as small as the set of recent claimers. */
static void prune_recent (pool *p)
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

 /* Seconds this uid must still wait before claiming from p again; 0 if none. */
static uint32_t toosoon (pool *p, uid_t uid)
{
  lastclaim *lc ;
  tain until ;
  if (!p->conf.ifelapsed) return 0 ;
  prune_recent(p) ;
  lc = lastclaim_find(p, uid) ;
  if (!lc) return 0 ;
  tain_addsec(&until, &lc->when, p->conf.ifelapsed) ;
   /* rounded up: waiting the whole seconds said is always enough */
  return (uint32_t)secs_until(&until) + 1 ;
}

static void refuse_toosoon (client *c, char const *poolname, uint32_t wait)
{
  char pack[HOLDINGPEN_TOOSOON_LEN - 1] ;
  uint32_pack_big(pack, wait) ;
  refuse(c, poolname, REFUSAL_TOOSOON, pack, sizeof(pack)) ;
}

/*
   Room to record a claim of uid's, made before it is granted (lease.c),
   so that recording it cannot fail: a claim not recorded would let its
   uid claim again too soon.
*/
int claim_record_room (pool *p, uid_t uid)
{
  if (!p->conf.ifelapsed || lastclaim_find(p, uid)) return 1 ;
  return genalloc_readyplus(lastclaim, &p->recent, 1) ;
}

void claim_record (pool *p, uid_t uid)
{
  lastclaim *lc ;
  if (!p->conf.ifelapsed) return ;
  lc = lastclaim_find(p, uid) ;
  if (lc) tain_copynow(&lc->when) ;
  else
  {
    lastclaim nl = { .uid = uid } ;
    tain_copynow(&nl.when) ;
     /* claim_record_room made room */
    if (!genalloc_append(lastclaim, &p->recent, &nl) && g.verbosity) strerr_warnwu1sys("record a claim") ;
  }
}

 /* The oldest ready slot that may go now (keep.c): one still kept as ready may have to wait for the fd holder. */
static slot *grantable (pool *p)
{
  for (uint32_t i = p->ready.head ; i != ILIST_NONE ; i = slot_of_index(i)->rlink.next)
    if (keep_grantable(slot_of_index(i))) return slot_of_index(i) ;
  return 0 ;
}

 /*
   Slots as good as ready: ready ones that wait for the fd holder to read
   (keep.c), and ready ones a previous holdingpend kept, on their way back
   through their new helper just after a restart. A claim that does not
   wait is not told "busy" for them.
*/
static int coming (pool const *p)
{
  if (p->ready.n) return 1 ;
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
    if ((SLOTS(p)[i]->state == SLOT_PREPARING || SLOTS(p)[i]->state == SLOT_DOWN) && SLOTS(p)[i]->kept == SLOTKEPT_READY) return 1 ;
  return 0 ;
}

 /* The oldest waiter gets the oldest ready slot. */
void claim_dispatch (pool *p)
{
  while (p->ready.n && p->waiters.head != ILIST_NONE)
  {
    client *c = CLIENT(p->waiters.head) ;
    slot *s = grantable(p) ;
    uint32_t wait ;
     /* none may go before the fd holder reads: keep_io calls again then */
    if (!s) return ;
     /* the same uid may have queued twice: the second comes too soon after the first */
    wait = toosoon(p, c->uid) ;
    if (wait) refuse_toosoon(c, p->conf.name, wait) ;
    else if (!lease_grant(c, s)) client_nomem(c, "claim", p->conf.name) ;
  }
}

static void enqueue (client *c, pool *p, uint32_t millisecs)
{
  tain deadline ;
  if (!pool_join(p, c))
  {
    client_nomem(c, "claim", p->conf.name) ;
    return ;
  }
  client_setstate(c, CLIENT_WAITING) ;
  c->seq = ++g.nextseq ;
  if (millisecs == HOLDINGPEN_FOREVER) timer_cancel(&c->deadline) ;
  else
  {
    deadline_in_ms(&deadline, millisecs) ;
    timer_set(&c->deadline, &deadline) ;
  }
  log_wait(c) ;
  client_poll(c) ;
}

void claim_request (client *c, hp_request const *req)
{
  pool *p ;
  uint32_t wait ;
  int allowed ;
  log_client("claim", c, req->pool, 0) ;
  allowed = rules_claim_allowed(c, req->pool) ;
  if (allowed < 0)
  {
    client_nomem(c, "claim", req->pool) ;
    return ;
  }
  if (!allowed)
  {
    refuse(c, req->pool, REFUSAL_RULES, 0, 0) ;
    return ;
  }
   /*
     Who connected is proven only now, after the rules: the proof may
     read every fd of the connector (hp_peer_pidfd.c), and a connection
     that claims nothing, or may not, must not cost that.
   */
  if (c->pidfd < 0) c->pidfd = hp_peer_pidfd(client_fd(c), c->pid, 0) ;
  if (c->pidfd < 0 && errno == ENOMEM)
  {
     /* not proven for want of memory: not a refusal by policy */
    client_nomem(c, "claim", req->pool) ;
    return ;
  }
  if (c->pidfd < 0)
  {
     /* who connected cannot be proven: nobody could be signalled at expiry or revoke */
    refuse(c, req->pool, REFUSAL_HOLDER, 0, 0) ;
    return ;
  }
  p = pool_find(req->pool) ;
  if (!p || p->removed)
  {
    refuse(c, req->pool, REFUSAL_NOPOOL, 0, 0) ;
    return ;
  }
  wait = toosoon(p, c->uid) ;
  if (wait)
  {
    refuse_toosoon(c, req->pool, wait) ;
    return ;
  }
  if (p->conf.maxperuid && pool_count_uid(p, c->uid) >= p->conf.maxperuid)
  {
    refuse(c, req->pool, REFUSAL_LIMIT, 0, 0) ;
    return ;
  }
  {
    slot *s = grantable(p) ;
    if (s)
    {
      if (!lease_grant(c, s)) client_nomem(c, "claim", req->pool) ;
      return ;
    }
  }
  if (req->flags & HOLDINGPEN_CLAIM_NOWAIT)
  {
    if (!coming(p))
    {
      refuse(c, req->pool, REFUSAL_BUSY, 0, 0) ;
      return ;
    }
     /* a slot as good as ready: -n waits for it, a little, then it is busy */
    c->nowait = 1 ;
    enqueue(c, p, COMING_MS) ;
    return ;
  }
  enqueue(c, p, req->millisecs) ;
}

void claim_timeout (client *c)
{
  refuse(c, c->pool->conf.name, c->nowait ? REFUSAL_BUSY : REFUSAL_TIMEOUT, 0, 0) ;
}
