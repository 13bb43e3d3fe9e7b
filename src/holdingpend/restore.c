/* ISC license. */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <skalibs/types.h>
#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/unixmessage.h>
#include <skalibs/tai.h>
#include <skalibs/iopause.h>

#include <s6/fdholder.h>

#include "holdingpend-internal.h"

 /*
   Taking back, at start, what a previous holdingpend kept (-f): its
   leases, with their holders and how far their careful kill went, and
   the resources of their slots and of its ready slots. Leases first,
   for they say which slots are held: a held resource is taken back only
   with its lease, and anything that matches nothing any more goes, from
   the fd holder too. This is start-up, before readiness: it may wait
   for the fd holder, a little.
*/

#define RESTORE_TIMEOUT_MS 2000
#define RETRIEVE_BATCH 64

static int has_prefix (char const *s, char const *prefix)
{
  return !strncmp(s, prefix, strlen(prefix)) ;
}

 /*
   What the fd holder keeps of ours is listed, then retrieved, many
   requests at a time, not dumped: s6_fdholder_getdump sends the fds by
   UNIXMESSAGE_MAXFDS a message, which is 255 up to skalibs 2.13 (Debian
   12's), above the kernel's 253 a message (SCM_MAX_FD): with more than
   253 fds kept, the dump fails, and nothing would be taken back.
*/

static int retrieve_batch (s6_fdholder_t *a, genalloc *ga, char const *const *ids, unsigned int n, tain const *deadline)
{
  for (unsigned int i = 0 ; i < n ; i++)
    if (!s6_fdholder_retrieve_maybe_delete_async(a, ids[i], 0)) return 0 ;
  if (!unixmessage_sender_timed_flush_g(&a->connection.out, deadline)) return 0 ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    s6_fdholder_retrieve_result_t res ;
    s6_fdholder_fd_t e ;
    unixmessage m ;
    if (unixmessage_timed_receive_g(&a->connection.in, &m, deadline) <= 0) return 0 ;
    if (!s6_fdholder_retrieve_cb(&m, &res)) return 0 ;
     /* gone meanwhile (expired): nothing to take */
    if (res.err) continue ;
    memset(&e, 0, sizeof(e)) ;
    memcpy(e.id, ids[i], strlen(ids[i]) + 1) ;
    e.fd = res.fd ;
    if (!genalloc_append(s6_fdholder_fd_t, ga, &e)) { fd_close(res.fd) ; return 0 ; }
  }
  return 1 ;
}

static int fetch (s6_fdholder_t *a, genalloc *ga, tain const *deadline)
{
  stralloc sa = STRALLOC_ZERO ;
  char const *ids[RETRIEVE_BATCH] ;
  unsigned int n = 0 ;
  int r = s6_fdholder_list_g(a, &sa, deadline) ;
  if (r < 0) return 0 ;
  for (size_t pos = 0 ; pos < sa.len ; pos += strlen(sa.s + pos) + 1)
  {
    if (!has_prefix(sa.s + pos, "holdingpen/") || strlen(sa.s + pos) > S6_FDHOLDER_ID_SIZE) continue ;
    ids[n++] = sa.s + pos ;
    if (n < RETRIEVE_BATCH) continue ;
    if (!retrieve_batch(a, ga, ids, n, deadline)) goto err ;
    n = 0 ;
  }
  if (n && !retrieve_batch(a, ga, ids, n, deadline)) goto err ;
  stralloc_free(&sa) ;
  return 1 ;
 err:
  stralloc_free(&sa) ;
  return 0 ;
}

typedef struct dump_s dump, *dump_ref ;
struct dump_s
{
  s6_fdholder_fd_t *e ;
  size_t n ;
} ;


static slot *slot_numbered (pool *p, uint64_t id)
{
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
    if (SLOTS(p)[i]->id == id && SLOTS(p)[i]->state != SLOT_GONE) return SLOTS(p)[i] ;
  return 0 ;
}

 /* The kind and size a kept resource record gives the pool's slot; memfd and 0 if none. */
static void slot_record (dump const *d, char const *name, uint64_t id, unsigned int *kind, uint64_t *size)
{
  *kind = HP_KIND_MEMFD ;
  *size = 0 ;
  for (size_t i = 0 ; i < d->n ; i++)
  {
    char pname[HOLDINGPEN_POOLNAME_MAX + 1] ;
    char const *rest ;
    uint64_t v[5] ;
    if (has_prefix(d->e[i].id, KEEPID_READY)) rest = d->e[i].id + strlen(KEEPID_READY) ;
    else if (has_prefix(d->e[i].id, KEEPID_HELD) && (rest = strchr(d->e[i].id + strlen(KEEPID_HELD), '/'))) rest++ ;
    else continue ;
    rest = keepid_pool(rest, pname) ;
    if (!rest || strcmp(pname, name) || keepid_numbers(rest, v, 5) != 5 || v[0] != id) continue ;
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
static slot *lease_slot (dump const *d, pool *p, char const *name, uint64_t id)
{
  slot *s ;
  if (!p)
  {
    unsigned int kind ;
    uint64_t size ;
    slot_record(d, name, id, &kind, &size) ;
    p = pool_orphan(name, kind, size) ;
    if (!p) return 0 ;
  }
  s = slot_numbered(p, id) ;
  return s ? s : id <= UINT32_MAX ? pool_extra_slot(p, (uint32_t)id) : 0 ;
}

static client *restored (uint64_t lease)
{
  client *c = lease_find(lease) ;
  return c && c->state == CLIENT_REQUEST && c->restoring ? c : 0 ;
}

 /*
   A kept connection is a lease's only if its other end is the process
   the record names: a forged record must not make root signal anyone.
*/
static int peer_is (int fd, uid_t uid, pid_t pid)
{
  struct ucred cred ;
  socklen_t len = sizeof(cred) ;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return 0 ;
  return cred.uid == uid && cred.pid == pid ;
}

 /* lease/LEASE/POOL/SLOT/UID/GID/PID/SINCE/EXPIRE[/KILL]: a client, not yet holding; its slot marked as named. */
static int take_lease (dump const *d, s6_fdholder_fd_t *e)
{
  char name[HOLDINGPEN_POOLNAME_MAX + 1] ;
  char const *rest ;
  uint64_t lease, v[7] ;
  size_t l = uint64_scan(e->id + strlen(KEEPID_LEASE), &lease) ;
  int nv ;
  slot *s ;
  client *c ;
  if (!l || e->id[strlen(KEEPID_LEASE) + l] != '/') return 0 ;
  rest = keepid_pool(e->id + strlen(KEEPID_LEASE) + l + 1, name) ;
  if (!rest) return 0 ;
  nv = keepid_numbers(rest, v, 7) ;
  if (nv < 6) return 0 ;
  s = lease_slot(d, pool_find(name), name, v[0]) ;
  if (!s) return 0 ;
  s->named = 1 ;
  if (s->holder || restored(lease) || !peer_is(e->fd, (uid_t)v[1], (pid_t)v[3])) return 0 ;
   /*
     The last connections stay free for the administrator, as they would
     for new clients: a restart with a smaller -c must not leave a
     broker that answers nobody. A lease not taken back is dropped, its
     slot reserved anew; its holder keeps what it has.
   */
  if (NCLIENTS() + (g.reserve ? g.reserve : 1) >= g.maxconn)
  {
    if (!g.fullwarned && g.verbosity) strerr_warnw2x("too many leases to take back for -c, some are dropped, the last connections kept free; lease ", e->id + strlen(KEEPID_LEASE)) ;
    g.fullwarned = 1 ;
    return 0 ;
  }
   /* at start-up: a daemon that cannot take its leases back does not start */
  if (!lease_tree_room()) strerr_diefu1sys(111, "allocate the lease tree") ;
   /* a record of 0.2 goes, its connection stays: the next pass stores it under today's name */
  c = client_restore(nv == 7 ? fcntl(e->fd, F_DUPFD_CLOEXEC, 0) : e->fd, (uid_t)v[1]) ;
  if (!c) return 0 ;
   /* restored() said no client has it */
  lease_number(c, lease) ;
  c->uid = (uid_t)v[1] ;
  c->gid = (gid_t)v[2] ;
  c->pid = (pid_t)v[3] ;
  c->slot = s ;
   /* times in milliseconds; 0.2's in seconds, with when the careful kill started: the steps follow from the time */
  c->sincewall = nv == 7 ? v[4] * 1000 : v[4] ;
  c->expirewall = nv == 7 ? v[5] * 1000 : v[5] ;
  c->killwall = nv == 7 ? v[6] * 1000 : 0 ;
  c->killstep = nv == 7 ? KEEP_STEP_FROM_TIME : 0 ;
  c->kept = nv == 6 ;
  c->restoring = 1 ;
  s->holder = c ;
  if (lease > g.nextlease) g.nextlease = lease ;
  return nv == 6 ;
}

 /* pidfd/LEASE[/KILLWALL/STEP]: the holder of a lease taken back, if it is the one the record names; the furthest step. */
static int take_pidfd (dump const *d, s6_fdholder_fd_t *e)
{
  uint64_t v[3] ;
  int nv = keepid_numbers(e->id + strlen(KEEPID_PIDFD), v, 3) ;
  client *c ;
  pid_t pid ;
  (void)d ;
  if (nv != 1 && nv != 3) return 0 ;
  c = restored(v[0]) ;
  if (!c || !hp_pidfd_pid(e->fd, &pid) || pid != c->pid) return 0 ;
  if (nv == 3)
  {
    if (c->pidfd >= 0 && c->keptstep >= v[2]) return 0 ;
    c->killwall = v[1] ;
    c->killstep = (unsigned int)(v[2] > 4 ? 4 : v[2]) ;
    c->keptstep = c->killstep ;
  }
  if (c->pidfd >= 0) fd_close(c->pidfd) ;
  if (nv == 1)
  {
     /* 0.2's record goes, its pidfd stays, stored anew under today's name */
    c->pidfd = fcntl(e->fd, F_DUPFD_CLOEXEC, 0) ;
    return 0 ;
  }
  c->pidfd = e->fd ;
  c->pidkept = 1 ;
  return 1 ;
}

 /*
   A resource goes to its slot's next helper. A ready one comes back with
   the helper's r, its record standing; of a held one the daemon keeps a
   copy, as of any held resource (slot_hand_out), to keep it anew.
*/
static void adopt (slot *s, int fd, unsigned int kept)
{
  s->adopt = fd ;
  s->kept = kept ;
  if (!s->holder) return ;
  s->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0) ;
  if (s->fd < 0) s->kept = SLOTKEPT_NONE ;
}

 /* held/LEASE/POOL/SLOT/KIND/SIZE/LOCK/DIRHASH: the resource of a lease taken back, on its slot. */
static int take_held (dump const *d, s6_fdholder_fd_t *e)
{
  char name[HOLDINGPEN_POOLNAME_MAX + 1] ;
  char const *rest ;
  uint64_t lease, v[5] ;
  size_t l = uint64_scan(e->id + strlen(KEEPID_HELD), &lease) ;
  client *c ;
  slot *s ;
  if (!l || e->id[strlen(KEEPID_HELD) + l] != '/') return 0 ;
  rest = keepid_pool(e->id + strlen(KEEPID_HELD) + l + 1, name) ;
  (void)d ;
  c = restored(lease) ;
  if (!rest || !c || keepid_numbers(rest, v, 5) != 5) return 0 ;
  s = c->slot ;
  if (strcmp(name, s->pool->conf.name) || s->adopt >= 0 || !keepid_matches(s, v)) return 0 ;
  adopt(s, e->fd, SLOTKEPT_HELD) ;
  return 1 ;
}

 /*
   slot/POOL/SLOT/KIND/SIZE/LOCK/DIRHASH: a ready slot's resource, if it
   is the same resource the slot would reserve now. One that a lease
   record names is held: 0.2 kept a held resource so; it is taken back
   only with its lease, never for a ready slot.
*/
static int take_ready (dump const *d, s6_fdholder_fd_t *e)
{
  char name[HOLDINGPEN_POOLNAME_MAX + 1] ;
  char const *rest = keepid_pool(e->id + strlen(KEEPID_READY), name) ;
  uint64_t v[5] ;
  pool *p ;
  slot *s ;
  (void)d ;
  if (!rest || keepid_numbers(rest, v, 5) != 5) return 0 ;
  p = pool_find(name) ;
  if (!p || p->removed) return 0 ;
  s = slot_numbered(p, v[0]) ;
  if (!s || s->retire || s->adopt >= 0 || !keepid_matches(s, v)) return 0 ;
  if (s->named && !(s->holder && s->holder->restoring)) return 0 ;
  if (!s->holder)
  {
     /* handed out and not emptied since: someone may hold it, whatever the records say */
    if (hp_resource_marked(e->fd)) return 0 ;
     /* a kept reservation is a reservation: readiness does not wait for its helper */
    adopt(s, e->fd, SLOTKEPT_READY) ;
    slot_settle(s) ;
    return 1 ;
  }
   /* the held resource of a lease of 0.2: its record goes, the resource is stored anew as held */
  {
    int fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 0) ;
    if (fd >= 0) adopt(s, fd, SLOTKEPT_NONE) ;
  }
  return 0 ;
}

static int take_listen (dump const *d, s6_fdholder_fd_t *e)
{
  char id[KEEPID_SIZE] ;
  struct stat a, b ;
  (void)d ;
  if (!keepid_listen(id) || strcmp(id, e->id)) return 0 ;
   /* ours if holdingpen-daemon gave it to us; one it refused goes, and ours is kept instead */
  if (fstat(0, &a) < 0 || fstat(e->fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) return 0 ;
  g.keeper.listenkept = 1 ;
  fd_close(e->fd) ;
  return 1 ;
}

typedef int take_func (dump const *, s6_fdholder_fd_t *) ;

 /* Each record with prefix that f takes is ours now: out of the dump, not dropped. */
static unsigned int take (dump *d, char const *prefix, take_func *f)
{
  unsigned int n = 0 ;
  for (size_t i = 0 ; i < d->n ; i++)
    if (d->e[i].fd >= 0 && has_prefix(d->e[i].id, prefix) && (*f)(d, d->e + i)) { d->e[i].fd = -1 ; n++ ; }
  return n ;
}

 /* The leases taken back, held again; the rest of their state set. */
static unsigned int hold_leases (void)
{
  unsigned int n = 0 ;
  for (uint32_t i = 0 ; i < g.maxconn ; i++)
  {
    client *c = CLIENT(i) ;
    if (c->state != CLIENT_REQUEST || !c->restoring) continue ;
    c->restoring = 0 ;
    lease_restore(c) ;
    n++ ;
  }
  return n ;
}

static void drop_rest (s6_fdholder_t *a, dump *d, unsigned int *ndropped)
{
  for (size_t i = 0 ; i < d->n ; i++)
  {
    tain deadline ;
    if (d->e[i].fd < 0) continue ;
    fd_close(d->e[i].fd) ;
    if (!has_prefix(d->e[i].id, "holdingpen/")) continue ;
    deadline_in_ms(&deadline, RESTORE_TIMEOUT_MS) ;
    if (!s6_fdholder_delete_g(a, d->e[i].id, &deadline) && errno != ENOENT && g.verbosity) strerr_warnwu2sys("remove from the fd holder: ", d->e[i].id) ;
    (*ndropped)++ ;
  }
}

 /*
   The fd holder may be starting beside us (s6-svscan starts both): its
   socket may not be there yet, or refuse, for a moment.
*/
static int wait_for_keeper (void)
{
  tain deadline ;
  deadline_in_ms(&deadline, RESTORE_TIMEOUT_MS) ;
  for (;;)
  {
    tain pause ;
    int fd = keep_connect() ;
    if (fd >= 0 || (errno != ENOENT && errno != ECONNREFUSED)) return fd ;
    deadline_in_ms(&pause, 20) ;
    if (!tain_less(&pause, &deadline)) return -1 ;
    deepsleepuntil_g(&pause) ;
  }
}

 /* After the pools are configured, before any helper starts. */
void keep_restore (void)
{
  genalloc ga = GENALLOC_ZERO ;
  s6_fdholder_t a = S6_FDHOLDER_ZERO ;
  dump d ;
  tain deadline ;
  unsigned int nleases, nslots, ndropped = 0 ;
  (void)nleases ;
  int fd ;
  if (!g.keeppath) return ;
  fd = wait_for_keeper() ;
  if (fd < 0)
  {
    if (g.verbosity) strerr_warnwu3sys("connect to the fd holder at ", g.keeppath, ": nothing is taken back, and it is tried again later") ;
    keep_disconnected() ;
    return ;
  }
  s6_fdholder_init(&a, fd) ;
  deadline_in_ms(&deadline, RESTORE_TIMEOUT_MS) ;
  if (!fetch(&a, &ga, &deadline))
  {
    for (size_t i = 0 ; i < genalloc_len(s6_fdholder_fd_t, &ga) ; i++) fd_close(genalloc_s(s6_fdholder_fd_t, &ga)[i].fd) ;
    genalloc_free(s6_fdholder_fd_t, &ga) ;
    if (g.verbosity) strerr_warnwu1sys("get what the fd holder keeps") ;
    s6_fdholder_free(&a) ;
    fd_close(fd) ;
    keep_disconnected() ;
    return ;
  }
  d.e = genalloc_s(s6_fdholder_fd_t, &ga) ;
  d.n = genalloc_len(s6_fdholder_fd_t, &ga) ;
  nleases = take(&d, KEEPID_LEASE, &take_lease) ;
  take(&d, KEEPID_PIDFD, &take_pidfd) ;
  nslots = take(&d, KEEPID_HELD, &take_held) ;
  nslots += take(&d, KEEPID_READY, &take_ready) ;
  take(&d, KEEPID_LISTEN, &take_listen) ;
  nleases = hold_leases() ;
  drop_rest(&a, &d, &ndropped) ;
  genalloc_free(s6_fdholder_fd_t, &ga) ;
  s6_fdholder_free(&a) ;
  keep_adopt(fd, KEEPER_UP) ;
  keep_listen() ;
  keep_pass_later() ;
  log_restore(nleases, nslots, ndropped) ;
}
