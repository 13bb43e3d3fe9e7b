/* ISC license. */

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <skalibs/types.h>

#include "holdingpend-internal.h"

 /*
   What the fd holder keeps is named so that a new holdingpend knows
   what it is without anything else:

     holdingpen/slot/POOL/SLOT/KIND/SIZE/LOCK/DIRHASH          a ready slot's resource
     holdingpen/held/LEASE/POOL/SLOT/KIND/SIZE/LOCK/DIRHASH    a held one's, valid with its lease
     holdingpen/lease/LEASE/POOL/SLOT/UID/GID/PID/SINCE/EXPIRE the lease's connection
     holdingpen/pidfd/LEASE/KILLWALL/STEP                      its holder, how far the careful kill went
     holdingpen/listenPATH                                     the listening socket

   Times are milliseconds of the system clock (0: never, not started),
   so that they mean the same to the next holdingpend. A lease record of
   holdingpen 0.2 has its times in seconds and a seventh number, KILL,
   and 0.2 kept a held resource under its slot's name: restore.c reads
   those too.
*/

static uint32_t dirhash (char const *s)
{
  uint32_t h = 2166136261U ;
  for (; *s ; s++) h = (h ^ (unsigned char)*s) * 16777619U ;
  return h ;
}

static size_t cat (char *id, size_t n, char const *s)
{
  size_t l = strlen(s) ;
  memcpy(id + n, s, l) ;
  return n + l ;
}

static size_t catu (char *id, size_t n, uint64_t u)
{
  id[n++] = '/' ;
  return n + uint64_fmt(id + n, u) ;
}

 /* POOL/SLOT/KIND/SIZE/LOCK/DIRHASH of slot s, from n on */
static size_t cat_slot (char *id, size_t n, slot const *s)
{
  hp_poolconf const *c = &s->pool->conf ;
  n = cat(id, n, c->name) ;
  n = catu(id, n, s->id) ;
  n = catu(id, n, c->kind) ;
  n = catu(id, n, c->size) ;
  n = catu(id, n, c->lock) ;
  return catu(id, n, dirhash(c->dir)) ;
}

void keepid_ready (char *id, slot const *s)
{
  id[cat_slot(id, cat(id, 0, KEEPID_READY), s)] = 0 ;
}

void keepid_held (char *id, slot const *s, uint64_t lease)
{
  size_t n = cat(id, 0, KEEPID_HELD) ;
  n += uint64_fmt(id + n, lease) ;
  id[n++] = '/' ;
  id[cat_slot(id, n, s)] = 0 ;
}

void keepid_lease (char *id, client const *c)
{
  size_t n = cat(id, 0, KEEPID_LEASE) ;
  n += uint64_fmt(id + n, c->lease) ;
  id[n++] = '/' ;
  n = cat(id, n, c->pool->conf.name) ;
  n = catu(id, n, c->slot->id) ;
  n = catu(id, n, c->uid) ;
  n = catu(id, n, c->gid) ;
  n = catu(id, n, (uint64_t)c->pid) ;
  n = catu(id, n, c->sincewall) ;
  id[catu(id, n, c->expirewall)] = 0 ;
}

void keepid_pidfd (char *id, uint64_t lease, uint64_t killwall, unsigned int step)
{
  size_t n = cat(id, 0, KEEPID_PIDFD) ;
  n += uint64_fmt(id + n, lease) ;
  n = catu(id, n, killwall) ;
  id[catu(id, n, step)] = 0 ;
}

 /* The listening socket's name, from the path it is bound to; 0 if it has none that fits. */
int keepid_listen (char *id)
{
  struct sockaddr_un sa ;
  socklen_t len = sizeof(sa) ;
  if (getsockname(0, (struct sockaddr *)&sa, &len) < 0 || sa.sun_family != AF_UNIX || len <= sizeof(sa_family_t)) return 0 ;
  return hp_listen_id(id, KEEPID_SIZE, sa.sun_path, strnlen(sa.sun_path, len - sizeof(sa_family_t))) ;
}

 /* Up to max numbers, slash-separated, to the end of s; how many, or -1 if s is not that. */
int keepid_numbers (char const *s, uint64_t *v, unsigned int max)
{
  unsigned int i = 0 ;
  for (;;)
  {
    size_t l ;
    if (i >= max) return -1 ;
    l = uint64_scan(s, v + i) ;
    if (!l) return -1 ;
    s += l ; i++ ;
    if (!*s) return (int)i ;
    if (*s++ != '/') return -1 ;
  }
}

 /* "POOL/rest": the pool's name in name (empty if invalid), where the rest starts */
char const *keepid_pool (char const *s, char *name)
{
  char const *slash = strchr(s, '/') ;
  name[0] = 0 ;
  if (!slash || !hp_poolname_valid(s, slash - s)) return 0 ;
  memcpy(name, s, slash - s) ;
  name[slash - s] = 0 ;
  return slash + 1 ;
}

 /* Does a resource record's SLOT/KIND/SIZE/LOCK/DIRHASH match slot s as configured now? */
int keepid_matches (slot const *s, uint64_t const *v)
{
  hp_poolconf const *c = &s->pool->conf ;
  return v[0] == s->id && v[1] == c->kind && v[2] == c->size && v[3] == c->lock && v[4] == dirhash(c->dir) ;
}
