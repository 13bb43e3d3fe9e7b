/* ISC license. */

#include <errno.h>
#include <string.h>

#include <skalibs/alloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>

#include "holdingpend-internal.h"

 /*
   Pools come from the pool directory (or the embedded default). Start-up
   and reload take the same path: read every pool, refuse the whole
   directory if one is bad, allocate everything the new configuration
   needs, then make the running pools match it. A reload refused, for a
   bad directory or for want of memory, has changed nothing. What a live
   lease holds is never cut: a removed or shrunk pool lets its held slots
   go when their leases end.
*/

pool *pool_find (char const *name)
{
  for (size_t i = 0 ; i < NPOOLS() ; i++)
    if (!strcmp(POOLS()[i]->conf.name, name)) return POOLS()[i] ;
  return 0 ;
}

static void pool_free (pool *p)
{
  genalloc_free(slot *, &p->slots) ;
  genalloc_free(uidcount, &p->peruid) ;
  genalloc_free(lastclaim, &p->recent) ;
  alloc_free(p) ;
}

 /* A pool's memory, with room for its slots; not yet among g.pools. 0 if it cannot be had. */
static pool *pool_make (hp_poolconf const *conf)
{
  pool *p = alloc(sizeof(pool)) ;
  if (!p) return 0 ;
  memset(p, 0, sizeof(pool)) ;
  p->conf = *conf ;
  p->slots = genalloc_zero ;
  p->peruid = genalloc_zero ;
  p->recent = genalloc_zero ;
  p->ready = (ilist)ILIST_ZERO ;
  p->waiters = (ilist)ILIST_ZERO ;
  p->holders = (ilist)ILIST_ZERO ;
  if (!genalloc_ready(slot *, &p->slots, conf->count))
  {
    alloc_free(p) ;
    return 0 ;
  }
  return p ;
}


 /*
   What a configuration needs, allocated before anything changes: the
   new pools, room for the new slots in their pools and in every table
   (slot_room), and the slots themselves. Then applying it cannot fail.
*/

typedef struct plan_s plan, *plan_ref ;
struct plan_s
{
  genalloc made ;   /* pool *, one per configured pool: a new one, or 0 if it exists */
  genalloc spare ;  /* slot *: the new slots, made in advance */
} ;
#define PLAN_ZERO { .made = GENALLOC_ZERO, .spare = GENALLOC_ZERO }

 /* The slots conf asks of p beyond its live ones, those neither retiring nor gone (pool_update counts the same). */
static uint32_t missing (pool const *p, hp_poolconf const *conf)
{
  uint32_t live = 0 ;
  if (!p) return conf->count ;
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
    if (!SLOTS(p)[i]->retire && SLOTS(p)[i]->state != SLOT_GONE) live++ ;
  return conf->count > live ? conf->count - live : 0 ;
}

 /* 1: everything is there; 0: not all of it could be had, nothing changed (plan_free frees what was). */
static int plan_make (plan *pl, hp_poolconf const *conf, size_t n)
{
  uint32_t total = 0 ;
  size_t nnew = 0 ;
  if (!genalloc_ready(pool *, &pl->made, n)) return 0 ;
  for (size_t j = 0 ; j < n ; j++)
  {
    pool *p = pool_find(conf[j].name) ;
    pool *np = 0 ;
    uint32_t add = missing(p, conf + j) ;
    if (p)
    {
      if (add && !genalloc_readyplus(slot *, &p->slots, add)) return 0 ;
    }
    else
    {
      np = pool_make(conf + j) ;
      if (!np) return 0 ;
      nnew++ ;
    }
    if (!genalloc_append(pool *, &pl->made, &np))
    {
      if (np) pool_free(np) ;
      return 0 ;
    }
    total += add ;
  }
  if (!genalloc_readyplus(pool *, &g.pools, nnew) || !slot_room(total)
   || !genalloc_ready(slot *, &pl->spare, total)) return 0 ;
  for (uint32_t i = 0 ; i < total ; i++)
  {
    slot *s = slot_alloc() ;
    if (!s) return 0 ;
     /* room was made: this cannot fail */
    genalloc_append(slot *, &pl->spare, &s) ;
  }
  return 1 ;
}

static void plan_free (plan *pl)
{
  pool **made = genalloc_s(pool *, &pl->made) ;
  for (size_t j = 0 ; j < genalloc_len(pool *, &pl->made) ; j++) if (made[j]) pool_free(made[j]) ;
  genalloc_free(pool *, &pl->made) ;
  for (size_t i = 0 ; i < genalloc_len(slot *, &pl->spare) ; i++) alloc_free(genalloc_s(slot *, &pl->spare)[i]) ;
  genalloc_free(slot *, &pl->spare) ;
}

 /* One more slot in p, from the plan, which made as many as it will be asked for. */
static void plan_slot (plan *pl, pool *p)
{
  size_t n = genalloc_len(slot *, &pl->spare) ;
  if (!n) return ;
  slot_attach(p, genalloc_s(slot *, &pl->spare)[n - 1]) ;
  genalloc_setlen(slot *, &pl->spare, n - 1) ;
}

 /* A new pool from the plan joins g.pools, with its slots: plan_make made room for all. */
static void plan_pool (plan *pl, pool *p)
{
  if (!genalloc_append(pool *, &g.pools, &p))
  {
     /* cannot happen: the room was made; the pool is not there, and said */
    if (g.verbosity) strerr_warnw3x("no room for pool ", p->conf.name, " where room was made: it is left out") ;
    pool_free(p) ;
    return ;
  }
  for (uint32_t i = 0 ; i < p->conf.count ; i++) plan_slot(pl, p) ;
}

 /*
   A pool that is no longer configured but still has a lease, taken back
   across a restart: removed from the start, it goes when its last lease
   ends, as a reload would have it.
*/
pool *pool_orphan (char const *name, unsigned int kind, uint64_t size)
{
  hp_poolconf conf ;
  pool *p ;
  hp_poolconf_default(&conf) ;
  memcpy(conf.name, name, strlen(name) + 1) ;
  conf.kind = kind < HP_KIND_N ? kind : conf.kind ;
  conf.size = size ;
  conf.count = 0 ;
   /* at start, before readiness */
  p = pool_make(&conf) ;
  if (!p || !genalloc_append(pool *, &g.pools, &p)) strerr_diefu1sys(111, "allocate a pool") ;
  p->removed = 1 ;
  return p ;
}

 /* A held slot of a pool that has shrunk since, taken back across a restart: it goes when its lease ends. */
slot *pool_extra_slot (pool *p, uint32_t id)
{
  slot *s = slot_new(p) ;
  if (!s) strerr_diefu1sys(111, "allocate a slot") ;
  p->nextslotid-- ;
  s->id = id ;
  s->retire = 1 ;
  return s ;
}

 /* A removed pool goes once its last slot has. */
void pool_collect (void)
{
  size_t k = 0 ;
  for (size_t i = 0 ; i < NPOOLS() ; i++)
  {
    pool *p = POOLS()[i] ;
    if (p->removed && !NSLOTS(p)) pool_free(p) ;
    else POOLS()[k++] = p ;
  }
  genalloc_setlen(pool *, &g.pools, k) ;
}

static int same_resource (hp_poolconf const *a, hp_poolconf const *b)
{
  return a->kind == b->kind && a->size == b->size && a->lock == b->lock && !strcmp(a->dir, b->dir) ;
}

static void pool_update (pool *p, hp_poolconf const *conf, plan *pl)
{
  int same = same_resource(&p->conf, conf) ;
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
  for (; live < conf->count ; live++) plan_slot(pl, p) ;
   /* free slots take the change now; held ones when their lease ends */
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
  {
    slot *s = SLOTS(p)[i] ;
     /* a reload is the admin saying "I fixed it": failed slots try again */
    if (!s->retire && !s->stale && (s->state == SLOT_FAILED || (!s->pid && s->state == SLOT_DOWN)))
    {
      s->deaths = 0 ;
      slot_spawn(s) ;
      continue ;
    }
     /* preparing and scrubbing ones when their helper answers */
    if ((s->stale || s->retire) && (s->state == SLOT_READY || s->state == SLOT_FAILED || s->state == SLOT_DOWN))
      slot_remake(s) ;
  }
}

static void pool_retire (pool *p)
{
  p->removed = 1 ;
  while (p->waiters.head != ILIST_NONE)
    refuse(CLIENT(p->waiters.head), p->conf.name, REFUSAL_REMOVED, 0, 0) ;
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
  {
    slot *s = SLOTS(p)[i] ;
    s->retire = 1 ;
     /* a scrubbing one goes once its helper has emptied what the lease had */
    if (s->state != SLOT_HELD && s->state != SLOT_GRANTING && s->state != SLOT_SCRUBBING && s->state != SLOT_GONE) slot_remove(s) ;
  }
}

static int pools_read (genalloc *confs, stralloc *err)
{
  int r ;
  if (!g.pooldir)
  {
    hp_poolconf conf ;
    hp_poolconf_default(&conf) ;
    return genalloc_append(hp_poolconf, confs, &conf) ? 1 : -1 ;
  }
  r = hp_pooldir_read(confs, g.pooldir, err) ;
  if (r < 0 && !err->len)
  {
    int e = errno ;
     /* if even the message cannot be built, the caller still has -1 */
    if (stralloc_cats(err, "unable to read the pool directory ") && stralloc_cats(err, g.pooldir)
     && stralloc_cats(err, ": ")) stralloc_cats(err, strerror(e)) ;
  }
  return r ;
}

 /* 1: applied; 0: refused, nothing changed (err says why); -1: system error (errno), nothing changed. */
int pools_configure (stralloc *err)
{
  genalloc confs = GENALLOC_ZERO ;
  plan pl = PLAN_ZERO ;
  cdb rules = CDB_ZERO ;
  pool **made ;
  hp_poolconf const *conf ;
  size_t n ;
  int r = rules_read(&rules, err) ;
  if (r <= 0) return r ;
  r = pools_read(&confs, err) ;
  if (r <= 0) goto end ;
  conf = genalloc_s(hp_poolconf, &confs) ;
  n = genalloc_len(hp_poolconf, &confs) ;
  r = -1 ;
  if (!plan_make(&pl, conf, n)) goto end ;
   /* everything is there: from here on, nothing fails */
  rules_commit(&rules) ;
  made = genalloc_s(pool *, &pl.made) ;
  for (size_t i = 0 ; i < NPOOLS() ; i++)
  {
    pool *p = POOLS()[i] ;
    size_t j = 0 ;
    for (; j < n ; j++) if (!strcmp(conf[j].name, p->conf.name)) break ;
    if (j == n && !p->removed) pool_retire(p) ;
  }
  for (size_t j = 0 ; j < n ; j++)
  {
    if (made[j])
    {
      plan_pool(&pl, made[j]) ;
      made[j] = 0 ;
    }
    else pool_update(pool_find(conf[j].name), conf + j, &pl) ;
  }
  r = 1 ;
 end:
  {
    int e = errno ;
    cdb_free(&rules) ;
    plan_free(&pl) ;
    genalloc_free(hp_poolconf, &confs) ;
    errno = e ;
  }
  return r ;
}


 /* New slots get their helper: after the "start" line at start-up, so that the log reads in order. */
void pools_spawn_helpers (void)
{
  for (size_t i = 0 ; i < NPOOLS() ; i++)
  {
    pool *p = POOLS()[i] ;
    for (size_t j = 0 ; j < NSLOTS(p) ; j++)
    {
      slot *s = SLOTS(p)[j] ;
      if (s->pid) continue ;
       /*
         A resource taken back at a restart is there already, and its slot
         settled: its helper comes after readiness, a few a turn of the
         loop, not a thousand spawns before it.
       */
      if (s->adopt >= 0) { tain now ; tain_copynow(&now) ; timer_set(&s->respawn, &now) ; }
      else if (s->state == SLOT_DOWN && !s->respawn.armed) slot_spawn(s) ;
    }
  }
}


 /* Claims per uid in a pool (waiting, granting, held), kept as they come and go. */

int pool_join (pool *p, client *c)
{
  if (!uidcount_inc(&p->peruid, uidcount_find(&p->peruid, c->uid), c->uid)) return 0 ;
  c->pool = p ;
  return 1 ;
}

void pool_leave (client *c)
{
  uidcount *u = uidcount_find(&c->pool->peruid, c->uid) ;
  if (u) uidcount_dec(&c->pool->peruid, u) ;
  c->pool = 0 ;
}

unsigned int pool_count_uid (pool const *p, uid_t uid)
{
  uidcount const *u = uidcount_find(&p->peruid, uid) ;
  return u ? u->n : 0 ;
}


 /* SIGHUP and the reload request: 1 applied, 0 refused (the old configuration stays), -1 system error, as well. */
int pools_reload (stralloc *err)
{
  int r = pools_configure(err) ;
  if (r <= 0)
  {
    int e = errno ;
    g.count.reloadfailures++ ;
    log_reload_refused(err) ;
     /* a system error may come without a message: for want of memory, surely */
    if (r < 0 && !err->len && g.verbosity)
    {
      errno = e ;
      strerr_warnwu1sys("reload, keeping the old configuration") ;
    }
    return r ;
  }
  g.count.reloads++ ;
  pools_spawn_helpers() ;
  log_count("reload", "pools", NPOOLS()) ;
  for (size_t i = 0 ; i < NPOOLS() ; i++) claim_dispatch(POOLS()[i]) ;
  return 1 ;
}

void reload_request (client *c, hp_request const *req)
{
  stralloc err = STRALLOC_ZERO ;
  int r ;
  (void)req ;
  if (!c->canadmin)
  {
    refuse(c, 0, REFUSAL_ADMIN, 0, 0) ;
    return ;
  }
   /* room for the answer first: a reload that is applied is always said so */
  if (!client_answer_room(c, 1, 0))
  {
    client_nomem(c, "reload", 0) ;
    return ;
  }
  r = pools_reload(&err) ;
  if (r > 0)
  {
    char code = HOLDINGPEN_OK ;
    client_reply(c, &code, 1, "reload") ;
  }
  else client_refuse(c, r < 0 ? HOLDINGPEN_SERVERFAIL : HOLDINGPEN_BADCONFIG, err.s, err.len) ;
  stralloc_free(&err) ;
}
