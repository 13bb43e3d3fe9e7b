/* ISC license. */

#include <stdint.h>
#include <string.h>

#include <skalibs/types.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

#include "holdingpend-internal.h"

 /*
   The status answer: one key=value record per line. Pools come in
   configuration order, each followed by its leases and its waiters (in
   queue order); the daemon's counters come last, to a client that asks
   for them: a client written for 0.1 knows no other record.
*/

static int cat_u64 (stralloc *sa, char const *key, uint64_t val)
{
  char fmt[UINT64_FMT] ;
  return stralloc_catb(sa, " ", 1) && stralloc_cats(sa, key) && stralloc_catb(sa, "=", 1)
   && stralloc_catb(sa, fmt, uint64_fmt(fmt, val)) ;
}

static int cat_first (stralloc *sa, char const *key, char const *val)
{
  return stralloc_cats(sa, key) && stralloc_catb(sa, "=", 1) && stralloc_cats(sa, val) ;
}

static int status_pool (stralloc *sa, pool const *p)
{
  unsigned int const *n = p->nslots ;
  return cat_first(sa, "pool", p->conf.name)
   && stralloc_cats(sa, " kind=") && stralloc_cats(sa, hp_kind_names[p->conf.kind])
   && cat_u64(sa, "size", p->conf.size)
   && cat_u64(sa, "count", p->conf.count)
   && cat_u64(sa, "ready", n[SLOT_READY])
   && cat_u64(sa, "held", n[SLOT_HELD] + n[SLOT_GRANTING])
   && cat_u64(sa, "preparing", n[SLOT_PREPARING] + n[SLOT_SCRUBBING] + n[SLOT_DOWN])
   && cat_u64(sa, "short", p->nshort)
   && cat_u64(sa, "failed", n[SLOT_FAILED])
   && cat_u64(sa, "waiters", p->waiters.n)
   && cat_u64(sa, "expire", p->conf.expire)
   && cat_u64(sa, "ifelapsed", p->conf.ifelapsed)
   && cat_u64(sa, "maxperuid", p->conf.maxperuid)
   && stralloc_cats(sa, p->removed ? " removed=1" : " removed=0")
   && cat_u64(sa, "leaked", p->leaked)
   && stralloc_catb(sa, "\n", 1) ;
}

static int status_lease (stralloc *sa, client const *c)
{
  tain age, expire ;
  char fmt[UINT64_FMT] ;
  tain_sub(&age, &STAMP, &c->since) ;
  if (!stralloc_cats(sa, "lease=") || !stralloc_catb(sa, fmt, uint64_fmt(fmt, c->lease))
   || !stralloc_cats(sa, " pool=") || !stralloc_cats(sa, c->pool->conf.name)
   || !cat_u64(sa, "slot", c->slot->id) || !cat_u64(sa, "uid", c->uid) || !cat_u64(sa, "gid", c->gid)
   || !cat_u64(sa, "pid", c->pid) || !cat_u64(sa, "age", tai_sec(tain_secp(&age)))) return 0 ;
  if (c->state == CLIENT_HOLDING && lease_expiry(c, &expire))
  {
    if (!cat_u64(sa, "expires", secs_until(&expire))) return 0 ;
  }
  else if (!stralloc_cats(sa, " expires=never")) return 0 ;
  return stralloc_cats(sa, c->killstep ? " ending=1\n" : " ending=0\n") ;
}

static int status_waiter (stralloc *sa, client const *c)
{
  tain waited ;
  char fmt[UINT64_FMT] ;
  tain_sub(&waited, &STAMP, &c->since) ;
  if (!stralloc_cats(sa, "waiter=") || !stralloc_catb(sa, fmt, uint64_fmt(fmt, c->seq))
   || !stralloc_cats(sa, " pool=") || !stralloc_cats(sa, c->pool->conf.name)
   || !cat_u64(sa, "uid", c->uid) || !cat_u64(sa, "gid", c->gid) || !cat_u64(sa, "pid", c->pid)
   || !cat_u64(sa, "waited", tai_sec(tain_secp(&waited)))) return 0 ;
  if (c->deadline.armed) return cat_u64(sa, "deadline", secs_until(&c->deadline.when)) && stralloc_catb(sa, "\n", 1) ;
  return stralloc_cats(sa, " deadline=never\n") ;
}

static int status_clients (stralloc *sa, pool const *p)
{
  for (uint32_t i = p->holders.head ; i != ILIST_NONE ; i = CLIENT(i)->plink.next)
    if (!status_lease(sa, CLIENT(i))) return 0 ;
  for (uint32_t i = p->waiters.head ; i != ILIST_NONE ; i = CLIENT(i)->plink.next)
    if (!status_waiter(sa, CLIENT(i))) return 0 ;
  return 1 ;
}

static int status_counters (stralloc *sa)
{
  counters const *k = &g.count ;
  tain up ;
  tain_sub(&up, &STAMP, &g.start) ;
  if (!stralloc_cats(sa, "counters=daemon")
   || !cat_u64(sa, "uptime", tai_sec(tain_secp(&up)))
   || !cat_u64(sa, "granted", k->granted)) return 0 ;
  for (unsigned int i = 0 ; i < REFUSED_N ; i++)
    if (!cat_u64(sa, refused_keys[i], k->refused[i])) return 0 ;
  return cat_u64(sa, "expired", k->expired)
   && cat_u64(sa, "revoked", k->revoked)
   && cat_u64(sa, "signals", k->signals)
   && cat_u64(sa, "helpercrashes", k->helpercrashes)
   && cat_u64(sa, "reloads", k->reloads)
   && cat_u64(sa, "reloadfailures", k->reloadfailures)
   && stralloc_catb(sa, "\n", 1) ;
}

static int named (hp_request const *req, char const *name)
{
  char const *s = req->names ;
  for (unsigned int j = 0 ; j < req->npools ; j++, s += strlen(s) + 1)
    if (!strcmp(s, name)) return 1 ;
  return 0 ;
}

void status_request (client *c, hp_request const *req)
{
  stralloc sa = STRALLOC_ZERO ;
  char const *name = req->names ;
  if (!c->canstatus)
  {
    refuse(c, 0, REFUSAL_STATUS, 0, 0) ;
    return ;
  }
  for (unsigned int i = 0 ; i < req->npools ; i++, name += strlen(name) + 1)
    if (!pool_find(name))
    {
      client_refuse(c, HOLDINGPEN_NOENT, 0, 0) ;
      return ;
    }
  if (!stralloc_catb(&sa, "", 1)) goto err ;
  for (size_t i = 0 ; i < NPOOLS() ; i++)
  {
    pool const *p = POOLS()[i] ;
    if (req->npools && !named(req, p->conf.name)) continue ;
    if (!status_pool(&sa, p) || !status_clients(&sa, p)) goto err ;
  }
  if (req->flags & HOLDINGPEN_STATUS_COUNTERS && !status_counters(&sa)) goto err ;
   /* no room for them in the sender: refused 111 there */
  client_reply(c, sa.s, sa.len, "status") ;
  stralloc_free(&sa) ;
  return ;
 err:
   /* the records could not be had */
  stralloc_free(&sa) ;
  client_nomem(c, "status", 0) ;
}
