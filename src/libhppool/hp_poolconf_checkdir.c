/* ISC license. */

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <skalibs/stralloc.h>

#include "hppool.h"

 /*
   A file pool's dir is where helpers, running as the daemon's uid
   (root, often), create files. If another user may write there, the
   fallback names (no O_TMPFILE) can be raced: refuse it. A dir that
   does not exist yet is the helper's to report, so that a pool on a
   filesystem mounted later still starts as short, not refused.
 */

int hp_poolconf_checkdir (hp_poolconf const *p, uid_t uid, stralloc *err)
{
  struct stat st ;
  char const *why ;
  if (!p->dir[0]) return 1 ;
  if (stat(p->dir, &st) < 0)
  {
    if (errno == ENOENT) return 1 ;
    return hp_conferr(err, p->name, "dir", strerror(errno)) ;
  }
  if (!hp_dir_shared(&st, uid, &why))
  {
    size_t dlen = strlen(p->dir), wlen = strlen(why) ;
    char s[dlen + wlen + 3] ;
    memcpy(s, p->dir, dlen) ;
    memcpy(s + dlen, ": ", 2) ;
    memcpy(s + dlen + 2, why, wlen + 1) ;
    return hp_conferr(err, p->name, "dir", s) ;
  }
  return 1 ;
}
