/* ISC license. */

#include <errno.h>
#include <string.h>

#include <skalibs/types.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>

#include "hppool.h"

 /*
   One small file per setting, like an envdir: the value is the first
   line, trailing white space ignored. A missing file means the default.
   Returns 1 if the pool is good, 0 if refused (err says why), -1 on
   system error.
 */

static int getvalue (char const *pooldir, char const *name, char const *file, char *buf, size_t max)
{
  size_t dlen = strlen(pooldir), nlen = strlen(name), flen = strlen(file) ;
  char path[dlen + nlen + flen + 3] ;
  ssize_t r ;
  memcpy(path, pooldir, dlen) ;
  path[dlen] = '/' ;
  memcpy(path + dlen + 1, name, nlen) ;
  path[dlen + 1 + nlen] = '/' ;
  memcpy(path + dlen + nlen + 2, file, flen + 1) ;
  r = openreadnclose(path, buf, max) ;
  if (r < 0) return errno == ENOENT ? 0 : -1 ;
  if ((size_t)r == max) return (errno = ENAMETOOLONG, -2) ;
  {
    char *nl = memchr(buf, '\n', r) ;
    if (nl) r = nl - buf ;
  }
  while (r && (buf[r-1] == ' ' || buf[r-1] == '\t' || buf[r-1] == '\r')) r-- ;
  buf[r] = 0 ;
  return 1 ;
}

static int getuint (char const *pooldir, hp_poolconf *p, char const *file, uint32_t *u, stralloc *err)
{
  char buf[32] ;
  int r = getvalue(pooldir, p->name, file, buf, sizeof(buf)) ;
  if (r == -1) return -1 ;
  if (r == -2) return hp_conferr(err, p->name, file, "value too long") ;
  if (!r) return 1 ;
  {
    size_t len = uint32_scan(buf, u) ;
    if (!len || buf[len]) return hp_conferr(err, p->name, file, "not a non-negative integer") ;
  }
  return 1 ;
}

int hp_poolconf_read (hp_poolconf *p, char const *pooldir, char const *name, stralloc *err)
{
  char buf[HP_DIR_MAX + 2] ;
  int r ;
  size_t namelen = strlen(name) ;
  memset(p, 0, sizeof(hp_poolconf)) ;
  if (!hp_poolname_valid(name, namelen))
  {
    err->len = 0 ;
    if (!stralloc_cats(err, "pool ") || !stralloc_cats(err, name)
     || !stralloc_cats(err, ": invalid pool name (want [A-Za-z0-9._-]{1,64}, not starting with a dot)")
     || !stralloc_0(err)) return -1 ;
    err->len-- ;
    return 0 ;
  }
  memcpy(p->name, name, namelen + 1) ;
  p->count = 1 ;
  p->killdelay = HP_DEFAULT_KILLDELAY ;

  r = getvalue(pooldir, name, "kind", buf, sizeof(buf)) ;
  if (r == -1) return -1 ;
  if (r == -2) return hp_conferr(err, name, "kind", "value too long") ;
  if (r && !hp_kind_scan(buf, &p->kind))
    return hp_conferr(err, name, "kind", "unknown kind (want memfd, hugetlb, file, ballast-mem or ballast-disk)") ;

  r = getvalue(pooldir, name, "size", buf, sizeof(buf)) ;
  if (r == -1) return -1 ;
  if (r == -2) return hp_conferr(err, name, "size", "value too long") ;
  if (!r) return hp_conferr(err, name, "size", "missing, and required") ;
  {
    size_t len = hp_size_scan(buf, &p->size) ;
    if (!len || buf[len]) return hp_conferr(err, name, "size", "unparsable (want bytes, with an optional K, M, G or T suffix)") ;
  }

  r = getuint(pooldir, p, "count", &p->count, err) ; if (r <= 0) return r ;
  if (!p->count) return hp_conferr(err, name, "count", "must be at least 1") ;
  if (p->count > HOLDINGPEN_SLOTS_MAX) return hp_conferr(err, name, "count", "too many slots") ;
  r = getuint(pooldir, p, "expire", &p->expire, err) ; if (r <= 0) return r ;
  r = getuint(pooldir, p, "ifelapsed", &p->ifelapsed, err) ; if (r <= 0) return r ;
  r = getuint(pooldir, p, "killdelay", &p->killdelay, err) ; if (r <= 0) return r ;
  r = getuint(pooldir, p, "maxperuid", &p->maxperuid, err) ; if (r <= 0) return r ;

  r = getvalue(pooldir, name, "lock", buf, sizeof(buf)) ;
  if (r == -1) return -1 ;
  p->lock = !!r ;

  r = getvalue(pooldir, name, "dir", p->dir, sizeof(p->dir)) ;
  if (r == -1) return -1 ;
  if (r == -2) return hp_conferr(err, name, "dir", "path too long") ;
  if (r)
  {
    if (p->dir[0] != '/') return hp_conferr(err, name, "dir", "not an absolute path") ;
    if (!hp_kind_isdisk(p->kind)) return hp_conferr(err, name, "dir", "only kinds file and ballast-disk take a dir") ;
  }
  return hp_poolconf_check(p, p->kind == HP_KIND_HUGETLB ? hp_hugepagesize() : 0, err) ;
}
