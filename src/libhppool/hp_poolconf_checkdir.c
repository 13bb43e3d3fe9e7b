/* ISC license. */

#include <errno.h>
#include <string.h>

#include <skalibs/stralloc.h>
#include <skalibs/djbunix.h>

#include "hppool.h"

 /*
   A file pool's dir is where helpers, running as the daemon's uid
   (root, often), create files. Its whole path must be one that root
   can trust (hp_dir_open): no symlink, no component another user can
   write to or replace. The helper walks it again each time it opens a
   file there; this only refuses, early, a path the admin got wrong.

   What the admin did not do is not refused: a dir that does not exist
   yet (a filesystem mounted later), or an entry another user made at
   its place in a directory shared like /tmp. Refusing those would let
   any user stop the daemon from starting or reloading; its helper
   reports them instead, and the pool starts short until it is fixed.
 */

int hp_poolconf_checkdir (hp_poolconf const *p, uid_t uid, stralloc *err)
{
  hp_dirwalk w ;
  int fd ;
  if (!p->dir[0]) return 1 ;
  fd = hp_dir_open(p->dir, uid, &w) ;
  if (fd >= 0) { fd_close(fd) ; return 1 ; }
  if (!w.why && errno == ENOENT) return 1 ;
  if (w.planted) return 1 ;
  {
    char const *why = w.why ? w.why : strerror(errno) ;
    size_t wlen = strlen(why) ;
    char s[w.len + wlen + 3] ;
    memcpy(s, p->dir, w.len) ;
    memcpy(s + w.len, ": ", 2) ;
    memcpy(s + w.len + 2, why, wlen + 1) ;
    return hp_conferr(err, p->name, "dir", s) ;
  }
}
