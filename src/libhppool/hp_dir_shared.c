/* ISC license. */

#include <sys/stat.h>

#include "hppool.h"

 /*
   Whether a directory where root creates names (the socket and its
   .lock, a file pool's fallback files) can be tampered with by another
   user: planting a symlink root will follow, renaming or unlinking what
   root made. 1: only root and uid can write there; 2: others can, but
   it is root-owned and sticky like /tmp, so they can neither remove nor
   rename what we create: safe for names we create exclusively, and for
   names made before we look; 0: unsafe, *why says why.
 */

int hp_dir_shared (struct stat const *st, uid_t uid, char const **why)
{
  if (!S_ISDIR(st->st_mode)) return (*why = "not a directory", 0) ;
  if (st->st_uid && st->st_uid != uid)
    return (*why = "owned by a user that is neither root nor the daemon's", 0) ;
  if (!(st->st_mode & (S_IWGRP | S_IWOTH))) return 1 ;
  if (!st->st_uid && st->st_mode & S_ISVTX) return 2 ;
  return (*why = "writable by its group or by anyone, and not both sticky and root-owned (like /tmp)", 0) ;
}
