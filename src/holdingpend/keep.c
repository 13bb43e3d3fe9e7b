/* ISC license. */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>

#include <skalibs/types.h>
#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/tai.h>

#include <s6/fdholder.h>

#include "holdingpend-internal.h"

 /*
   Leases and reservations that outlive the broker (-f): every slot's
   resource fd, every lease's connection and its holder's pidfd are kept
   in an s6-fdholderd, under an identifier that carries what a new
   holdingpend needs to take them back. A resource is kept from the
   moment its helper has it ready until the lease that held it has ended;
   a lease from before its answer leaves until it ends. Each is kept with
   an expiry, refreshed while holdingpend runs: a broker stopped for good
   leaves nothing held for longer than that.

     holdingpen/slot/POOL/SLOT/KIND/SIZE/LOCK/DIRHASH     the resource
     holdingpen/lease/LEASE/POOL/SLOT/UID/GID/PID/SINCE/EXPIRE/KILL
                                                          the connection
     holdingpen/pidfd/LEASE                               the holder

   Times are seconds of the system clock (0: never, not started), so that
   they mean the same thing to the next holdingpend.
*/

#define KEEP_TIMEOUT_MS 2000
#define ID_SLOT "holdingpen/slot/"
#define ID_LEASE "holdingpen/lease/"
#define ID_PIDFD "holdingpen/pidfd/"

static s6_fdholder_t keeper = S6_FDHOLDER_ZERO ;
static int connected = 0 ;
static int warned = 0 ;   /* an unreachable fd holder is said once, not at every claim */

static void deadline (tain *d)
{
  tain_in_ms(d, KEEP_TIMEOUT_MS) ;
}

static void disconnect (void)
{
  if (!connected) return ;
  s6_fdholder_end(&keeper) ;
  connected = 0 ;
}

 /* The fd holder may have been restarted under us: reconnect when needed, never die of it. */
static int connect_keeper (void)
{
  tain d ;
  if (connected) return 1 ;
  deadline(&d) ;
  keeper = (s6_fdholder_t)S6_FDHOLDER_ZERO ;
  if (!s6_fdholder_start_g(&keeper, g.keeppath, &d))
  {
    if (!warned) strerr_warnwu3sys("connect to the fd holder at ", g.keeppath, ", leases will not outlive this holdingpend until it answers") ;
    warned = 1 ;
    return 0 ;
  }
  if (warned) strerr_warni2x("the fd holder answers again at ", g.keeppath) ;
  warned = 0 ;
  connected = 1 ;
  return 1 ;
}

static uint32_t dirhash (char const *s)
{
  uint32_t h = 2166136261U ;
  for (; *s ; s++) h = (h ^ (unsigned char)*s) * 16777619U ;
  return h ;
}

static size_t catu (char *s, uint64_t u)
{
  size_t n = uint64_fmt(s + 1, u) ;
  s[0] = '/' ;
  return n + 1 ;
}

static void slot_id (char *id, slot const *s)
{
  hp_poolconf const *c = &s->pool->conf ;
  size_t n = strlen(ID_SLOT) ;
  size_t l = strlen(c->name) ;
  memcpy(id, ID_SLOT, n) ;
  memcpy(id + n, c->name, l) ; n += l ;
  n += catu(id + n, s->id) ;
  n += catu(id + n, c->kind) ;
  n += catu(id + n, c->size) ;
  n += catu(id + n, c->lock) ;
  n += catu(id + n, dirhash(c->dir)) ;
  id[n] = 0 ;
}

static void lease_id (char *id, client const *c)
{
  size_t n = strlen(ID_LEASE) ;
  size_t l = strlen(c->pool->conf.name) ;
  memcpy(id, ID_LEASE, n) ;
  n += uint64_fmt(id + n, c->lease) ;
  id[n++] = '/' ;
  memcpy(id + n, c->pool->conf.name, l) ; n += l ;
  n += catu(id + n, c->slot->id) ;
  n += catu(id + n, c->uid) ;
  n += catu(id + n, c->gid) ;
  n += catu(id + n, (uint64_t)c->pid) ;
  n += catu(id + n, c->sincewall) ;
  n += catu(id + n, c->expirewall) ;
  n += catu(id + n, c->killwall) ;
  id[n] = 0 ;
}

static void pidfd_id (char *id, uint64_t lease)
{
  size_t n = strlen(ID_PIDFD) ;
  memcpy(id, ID_PIDFD, n) ;
  id[n + uint64_fmt(id + n, lease)] = 0 ;
}

static void drop (char const *) ;

static int store (int fd, char const *id)
{
  tain d, limit ;
  if (!connect_keeper()) return 0 ;
  deadline(&d) ;
  tain_addsec_g(&limit, g.keepsecs) ;
  if (s6_fdholder_store_g(&keeper, fd, id, &limit, &d)) return 1 ;
  if (errno == EBUSY)
  {
     /* left by a holdingpen whose state was not taken back: ours replaces it */
    drop(id) ;
    deadline(&d) ;
    if (s6_fdholder_store_g(&keeper, fd, id, &limit, &d)) return 1 ;
  }
  strerr_warnwu2sys("keep in the fd holder: ", id) ;
  if (errno != EBUSY) disconnect() ;
  return 0 ;
}

static void drop (char const *id)
{
  tain d ;
  if (!connect_keeper()) return ;
  deadline(&d) ;
  if (!s6_fdholder_delete_g(&keeper, id, &d) && errno != ENOENT)
  {
    strerr_warnwu2sys("remove from the fd holder: ", id) ;
    disconnect() ;
  }
}

void keep_slot (slot *s)
{
  char id[S6_FDHOLDER_ID_SIZE + 1] ;
  if (!g.keeppath || s->fd < 0) return ;
  slot_id(id, s) ;
  if (s->kept) drop(id) ;
  s->kept = store(s->fd, id) ;
}

void keep_slot_drop (slot *s)
{
  char id[S6_FDHOLDER_ID_SIZE + 1] ;
  if (!s->kept) return ;
  slot_id(id, s) ;
  drop(id) ;
  s->kept = 0 ;
}

static int store_connection (client *c)
{
  char id[S6_FDHOLDER_ID_SIZE + 1] ;
  lease_id(id, c) ;
  return store(client_fd(c), id) ;
}

static void drop_connection (client const *c)
{
  char id[S6_FDHOLDER_ID_SIZE + 1] ;
  lease_id(id, c) ;
  drop(id) ;
}

static void store_holder (client const *c)
{
  char id[S6_FDHOLDER_ID_SIZE + 1] ;
  if (c->pidfd < 0) return ;
  pidfd_id(id, c->lease) ;
  store(c->pidfd, id) ;
}

static void drop_holder (client const *c)
{
  char id[S6_FDHOLDER_ID_SIZE + 1] ;
  if (c->pidfd < 0) return ;
  pidfd_id(id, c->lease) ;
  drop(id) ;
}

 /*
   A held slot's resource must never be in the fd holder without its
   lease's record: the next holdingpend would take it for a ready slot,
   and the next holder would read the previous one's bytes. So the
   resource goes before the lease's record at the lease's end, is taken
   out while the lease's record is stored anew, and goes at once if the
   lease cannot be kept.
*/

 /* A held slot's resource out of the fd holder, for a moment: its fd, or -1. */
static int take_out (slot *s)
{
  char id[S6_FDHOLDER_ID_SIZE + 1] ;
  tain d ;
  int fd ;
  s->kept = 0 ;
  if (!connect_keeper()) return -1 ;
  slot_id(id, s) ;
  deadline(&d) ;
  fd = s6_fdholder_retrieve_maybe_delete_g(&keeper, id, 1, &d) ;
  if (fd < 0 && errno != ENOENT)
  {
    strerr_warnwu2sys("take back from the fd holder: ", id) ;
    disconnect() ;
  }
  return fd ;
}

static void put_back (slot *s, int fd)
{
  char id[S6_FDHOLDER_ID_SIZE + 1] ;
  slot_id(id, s) ;
  s->kept = store(fd, id) ;
  fd_close(fd) ;
}

 /* Before the answer leaves: a lease the next holdingpend would not know could be granted twice. */
void keep_lease (client *c)
{
  if (!g.keeppath) return ;
  c->kept = store_connection(c) ;
  if (c->kept) store_holder(c) ;
  else keep_slot_drop(c->slot) ;
}

void keep_lease_drop (client *c)
{
  keep_slot_drop(c->slot) ;
  if (!c->kept) return ;
  drop_connection(c) ;
  drop_holder(c) ;
  c->kept = 0 ;
}

 /* The lease's record stored anew, with killwall, its slot's resource out meanwhile; the holder's record too if all. */
static void lease_anew (client *c, int all, uint64_t killwall)
{
  slot *s = c->slot ;
  int fd = s->kept ? take_out(s) : -1 ;
  drop_connection(c) ;
  if (all) drop_holder(c) ;
  c->killwall = killwall ;
  c->kept = store_connection(c) ;
  if (c->kept && all) store_holder(c) ;
  if (fd < 0) return ;
  if (c->kept) put_back(s, fd) ;
  else fd_close(fd) ;
}

 /* The careful kill started: the next holdingpend must go on with it. Only the connection's record says so. */
void keep_lease_kill (client *c)
{
  if (c->kept) lease_anew(c, 0, (uint64_t)time(0)) ;
}

 /* Every third of -F, well before anything kept expires. */
static void schedule_refresh (void)
{
  tain next ;
  tain_addsec_g(&next, g.keepsecs / 3 ? g.keepsecs / 3 : 1) ;
  timer_set(&g.keeptimer, &next) ;
}

 /* Every kept fd is stored again with a new expiry, well before the old one. */
void keep_refresh (void)
{
  for (size_t i = 0 ; i < NPOOLS() ; i++)
  {
    pool *p = POOLS()[i] ;
    for (size_t j = 0 ; j < NSLOTS(p) ; j++)
    {
      slot *s = SLOTS(p)[j] ;
       /* a held slot's resource goes with its lease, below */
      if (!s->kept || (s->holder && s->holder->kept)) continue ;
      if (s->fd >= 0) keep_slot(s) ;
      else keep_slot_drop(s) ;
    }
    for (uint32_t k = p->holders.head ; k != CLIENT_NONE ; k = CLIENT(k)->plink.next)
      if (CLIENT(k)->kept) lease_anew(CLIENT(k), 1, CLIENT(k)->killwall) ;
  }
  schedule_refresh() ;
}


 /* Taking back what a previous holdingpend kept */

static int scan_fields (char const *s, uint64_t *v, unsigned int n)
{
  for (unsigned int i = 0 ; i < n ; i++)
  {
    size_t l = uint64_scan(s, v + i) ;
    if (!l) return 0 ;
    s += l ;
    if (i + 1 < n) { if (*s != '/') return 0 ; s++ ; }
  }
  return !*s ;
}

 /* "POOL/rest": the pool's name in name, the pool if it is configured, where the rest starts */
static pool *scan_pool (char const *s, char *name, char const **rest)
{
  char const *slash = strchr(s, '/') ;
  name[0] = 0 ;
  if (!slash || !hp_poolname_valid(s, slash - s)) return 0 ;
  memcpy(name, s, slash - s) ;
  name[slash - s] = 0 ;
  *rest = slash + 1 ;
  return pool_find(name) ;
}

static slot *slot_numbered (pool *p, uint64_t id)
{
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
    if (SLOTS(p)[i]->id == id && SLOTS(p)[i]->state != SLOT_GONE) return SLOTS(p)[i] ;
  return 0 ;
}

 /* A slot record's id: its pool's name, the pool if configured, and slot kind size lock dirhash. 0 if it is not one. */
static int scan_slot_id (char const *id, char *name, pool **p, uint64_t *v)
{
  char const *rest ;
  if (strncmp(id, ID_SLOT, strlen(ID_SLOT))) return 0 ;
  *p = scan_pool(id + strlen(ID_SLOT), name, &rest) ;
  return name[0] && scan_fields(rest, v, 5) ;
}

static int take_slot (s6_fdholder_fd_t const *e)
{
  char name[HOLDINGPEN_POOLNAME_MAX + 1] ;
  uint64_t v[5] ;
  pool *p ;
  slot *s ;
  if (!scan_slot_id(e->id, name, &p, v) || !p || p->removed) return 0 ;
  s = slot_numbered(p, v[0]) ;
   /* only the same resource is taken back: anything else is reserved anew */
  if (!s || s->retire || s->adopt >= 0 || v[1] != p->conf.kind || v[2] != p->conf.size
   || v[3] != p->conf.lock || v[4] != dirhash(p->conf.dir)) return 0 ;
  s->adopt = e->fd ;
  s->kept = 1 ;
  return 1 ;
}

 /* The holder's pidfd kept with the lease: taken from the dump, so that it is not dropped with the rest. */
static void take_pidfd (genalloc *dump, client *c)
{
  char id[S6_FDHOLDER_ID_SIZE + 1] ;
  s6_fdholder_fd_t *e = genalloc_s(s6_fdholder_fd_t, dump) ;
  size_t n = genalloc_len(s6_fdholder_fd_t, dump) ;
  pidfd_id(id, c->lease) ;
  for (size_t i = 0 ; i < n ; i++)
    if (e[i].fd >= 0 && !strcmp(e[i].id, id)) { c->pidfd = e[i].fd ; e[i].fd = -1 ; return ; }
}

 /* The kind and size a kept slot record gives the pool's slot; memfd and 0 if none. */
static void slot_record (genalloc const *dump, char const *name, uint64_t id, unsigned int *kind, uint64_t *size)
{
  s6_fdholder_fd_t const *e = genalloc_s(s6_fdholder_fd_t, dump) ;
  size_t n = genalloc_len(s6_fdholder_fd_t, dump) ;
  *kind = HP_KIND_MEMFD ;
  *size = 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    char pname[HOLDINGPEN_POOLNAME_MAX + 1] ;
    pool *p ;
    uint64_t v[5] ;
    if (!scan_slot_id(e[i].id, pname, &p, v) || strcmp(pname, name) || v[0] != id) continue ;
    *kind = (unsigned int)v[1] ;
    *size = v[2] ;
    return ;
  }
}

 /*
   A lease whose pool or slot is no longer configured is still held: its
   pool is kept as removed, its slot as retiring, until it ends, as a
   reload would have it.
*/
static slot *lease_slot (genalloc const *dump, pool *p, char const *name, uint64_t id)
{
  slot *s ;
  if (!p)
  {
    unsigned int kind ;
    uint64_t size ;
    slot_record(dump, name, id, &kind, &size) ;
    p = pool_orphan(name, kind, size) ;
  }
  s = slot_numbered(p, id) ;
  return s ? s : id <= UINT32_MAX ? pool_extra_slot(p, (uint32_t)id) : 0 ;
}

static int take_lease (genalloc *dump, s6_fdholder_fd_t const *e)
{
  char name[HOLDINGPEN_POOLNAME_MAX + 1] ;
  char const *rest ;
  uint64_t lease, v[7] ;
  size_t l = uint64_scan(e->id + strlen(ID_LEASE), &lease) ;
  pool *p ;
  slot *s ;
  client *c ;
  if (!l || e->id[strlen(ID_LEASE) + l] != '/') return 0 ;
  p = scan_pool(e->id + strlen(ID_LEASE) + l + 1, name, &rest) ;
  if (!name[0] || !scan_fields(rest, v, 7)) return 0 ;
  s = lease_slot(dump, p, name, v[0]) ;
  if (!s || s->holder) return 0 ;
  c = client_restore(e->fd) ;
  if (!c) return 0 ;
  c->lease = lease ;
  c->uid = (uid_t)v[1] ;
  c->gid = (gid_t)v[2] ;
  c->pid = (pid_t)v[3] ;
  c->kept = 1 ;
  take_pidfd(dump, c) ;
  if (lease > g.nextlease) g.nextlease = lease ;
  lease_restore(c, s, v[4], v[5], v[6]) ;
  return 1 ;
}

 /* After the pools are configured, before any helper starts. */
void keep_restore (void)
{
  genalloc dump = GENALLOC_ZERO ;
  s6_fdholder_fd_t *e ;
  size_t n ;
  unsigned int nslots = 0, nleases = 0, ndropped = 0 ;
  tain d ;
  if (!g.keeppath) return ;
  if (!connect_keeper()) return ;
  deadline(&d) ;
  if (!s6_fdholder_getdump_g(&keeper, &dump, &d))
  {
    strerr_warnwu1sys("get what the fd holder keeps") ;
    disconnect() ;
    return ;
  }
  e = genalloc_s(s6_fdholder_fd_t, &dump) ;
  n = genalloc_len(s6_fdholder_fd_t, &dump) ;
   /* leases first: they say which slots are held */
  for (size_t i = 0 ; i < n ; i++)
    if (e[i].fd >= 0 && !strncmp(e[i].id, ID_LEASE, strlen(ID_LEASE)))
    {
      if (take_lease(&dump, e + i)) { e[i].fd = -1 ; nleases++ ; }
    }
  for (size_t i = 0 ; i < n ; i++)
    if (e[i].fd >= 0 && !strncmp(e[i].id, ID_SLOT, strlen(ID_SLOT)))
    {
      if (take_slot(e + i)) { e[i].fd = -1 ; nslots++ ; }
    }
   /* what matches nothing any more goes, from the fd holder too */
  for (size_t i = 0 ; i < n ; i++)
  {
    if (e[i].fd < 0) continue ;
    if (!strncmp(e[i].id, "holdingpen/", 11)) { drop(e[i].id) ; ndropped++ ; }
    fd_close(e[i].fd) ;
  }
  genalloc_free(s6_fdholder_fd_t, &dump) ;
  log_restore(nleases, nslots, ndropped) ;
}

void keep_init (void)
{
  g.keeptimer.id = TIMER_KEEP ;
  if (g.keeppath) schedule_refresh() ;
}
