/* ISC license. */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <skalibs/types.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/direntry.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>

#include "hppool.h"

 /*
   One small file per setting, like an envdir: the value is the first
   line, trailing white space ignored. A missing file means the default.
   Returns 1 if the pool is good, 0 if refused (err says why), -1 on
   system error.

   The pool directory is the admin's input: whatever is in it gives a
   refusal naming the pool and the file, never a hang or a system error.
   A setting is opened non-blocking, so that a FIFO in its place cannot
   stop the daemon in open(), and must be a regular file.
 */

static char const *const settings[] =
{
  "kind", "size", "count", "lock", "dir", "expire", "ifelapsed", "killdelay", "maxperuid", 0
} ;

#define SETTINGS_LIST "kind, size, count, lock, dir, expire, ifelapsed, killdelay, maxperuid"

 /* Want of memory is no fault of the directory's: a system error, said the same way. */
static int syserr (stralloc *err, char const *pool, char const *file, char const *what)
{
  int nomem = errno == ENOMEM ;
  char const *e = strerror(errno) ;
  size_t wlen = strlen(what), elen = strlen(e) ;
  char s[wlen + elen + 3] ;
  int r ;
  memcpy(s, what, wlen) ;
  memcpy(s + wlen, ": ", 2) ;
  memcpy(s + wlen + 2, e, elen + 1) ;
  r = hp_conferr(err, pool, file, s) ;
  if (nomem) errno = ENOMEM ;
  return nomem ? -1 : r ;
}

 /*
   The pool must be a directory holding only known settings. Names
   starting with a dot (.keep, an editor's swap file) are left alone,
   as they are in the pool directory itself; any other name is a typo
   until proven otherwise, and a typo silently ignored is a setting lost.
 */
static int check_files (char const *pooldir, char const *name, stralloc *err)
{
  size_t dlen = strlen(pooldir), nlen = strlen(name) ;
  char path[dlen + nlen + 2] ;
  struct stat st ;
  DIR *d ;
  memcpy(path, pooldir, dlen) ;
  path[dlen] = '/' ;
  memcpy(path + dlen + 1, name, nlen + 1) ;
  if (stat(path, &st) < 0) return syserr(err, name, name, "unable to stat") ;
  if (!S_ISDIR(st.st_mode))
    return hp_conferr(err, name, name, "not a directory: every entry of the pool directory is a pool, a directory of settings (names starting with a dot are ignored)") ;
  d = opendir(path) ;
  if (!d) return syserr(err, name, name, "unable to open the pool's directory") ;
  for (;;)
  {
    direntry *e ;
    unsigned int i = 0 ;
    errno = 0 ;
    e = readdir(d) ;
    if (!e) break ;
    if (e->d_name[0] == '.') continue ;
    while (settings[i] && strcmp(settings[i], e->d_name)) i++ ;
    if (!settings[i])
    {
      int r = hp_conferr(err, name, e->d_name, "unknown setting (want " SETTINGS_LIST ")") ;
      dir_close(d) ;
      return r ;
    }
  }
  if (errno)
  {
    int e = errno ;
    dir_close(d) ;
    errno = e ;
    return syserr(err, name, name, "unable to read the pool's directory") ;
  }
  dir_close(d) ;
  return 1 ;
}

 /* 2: value in buf; 1: no such file; 0: refused, err says why; -1: system error. */
static int getvalue (char const *pooldir, char const *name, char const *file, char *buf, size_t max, stralloc *err)
{
  size_t dlen = strlen(pooldir), nlen = strlen(name), flen = strlen(file) ;
  char path[dlen + nlen + flen + 3] ;
  struct stat st ;
  size_t r ;
  int fd ;
  memcpy(path, pooldir, dlen) ;
  path[dlen] = '/' ;
  memcpy(path + dlen + 1, name, nlen) ;
  path[dlen + 1 + nlen] = '/' ;
  memcpy(path + dlen + nlen + 2, file, flen + 1) ;
  fd = open_read(path) ;
  if (fd < 0) return errno == ENOENT ? 1 : syserr(err, name, file, "unable to open") ;
  if (fstat(fd, &st) < 0) { int e = errno ; fd_close(fd) ; errno = e ; return syserr(err, name, file, "unable to stat") ; }
  if (!S_ISREG(st.st_mode))
  {
    fd_close(fd) ;
    return hp_conferr(err, name, file, "not a regular file") ;
  }
   /* allread leaves errno alone at end of file */
  errno = 0 ;
  r = allread(fd, buf, max) ;
  if (r < max && errno && errno != EPIPE)
  {
    int e = errno ;
    fd_close(fd) ;
    errno = e ;
    return syserr(err, name, file, "unable to read") ;
  }
  fd_close(fd) ;
  if (r == max) return hp_conferr(err, name, file, "value too long") ;
  {
    char *nl = memchr(buf, '\n', r) ;
    if (nl) r = nl - buf ;
  }
  while (r && (buf[r-1] == ' ' || buf[r-1] == '\t' || buf[r-1] == '\r')) r-- ;
  buf[r] = 0 ;
  return 2 ;
}

static int getuint (char const *pooldir, hp_poolconf *p, char const *file, uint32_t *u, stralloc *err)
{
  char buf[32] ;
  int r = getvalue(pooldir, p->name, file, buf, sizeof(buf), err) ;
  if (r <= 1) return r ;
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
  r = check_files(pooldir, name, err) ; if (r <= 0) return r ;

  r = getvalue(pooldir, name, "kind", buf, sizeof(buf), err) ;
  if (r <= 0) return r ;
  if (r == 2 && !hp_kind_scan(buf, &p->kind))
    return hp_conferr(err, name, "kind", "unknown kind (want memfd, hugetlb, file, ballast-mem or ballast-disk)") ;

  r = getvalue(pooldir, name, "size", buf, sizeof(buf), err) ;
  if (r <= 0) return r ;
  if (r == 1) return hp_conferr(err, name, "size", "missing, and required") ;
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

  r = getvalue(pooldir, name, "lock", buf, sizeof(buf), err) ;
  if (r <= 0) return r ;
  p->lock = r == 2 ;

  r = getvalue(pooldir, name, "dir", p->dir, sizeof(p->dir), err) ;
  if (r <= 0) return r ;
  if (r == 2)
  {
    if (p->dir[0] != '/') return hp_conferr(err, name, "dir", "not an absolute path") ;
    if (!hp_kind_isdisk(p->kind)) return hp_conferr(err, name, "dir", "only kinds file and ballast-disk take a dir") ;
  }
  r = hp_poolconf_check(p, p->kind == HP_KIND_HUGETLB ? hp_hugepagesize() : 0, err) ;
  if (r <= 0) return r ;
  return hp_poolconf_checkdir(p, geteuid(), err) ;
}
