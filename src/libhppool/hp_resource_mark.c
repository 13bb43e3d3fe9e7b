/* ISC license. */

#include <sys/stat.h>

#include "hppool.h"

 /*
   A resource handed out to a holder carries a mark on its inode, the
   sticky bit, that only its owner (root, or the daemon's uid) can set or
   clear, and it keeps it until it has been emptied: whatever a record
   kept across a restart says, a marked resource is never taken back for
   a ready one, for someone may hold it still. used: 1 to mark, 0 to
   clear. *mode: the resource's mode without the mark, or 0 if it is not
   known yet: it is read then, and kept there, so that the mark of a
   claim, which follows the clearing of its slot, costs one fchmod.
   1: done; 0: errno set.
*/

int hp_resource_mark (int fd, int used, mode_t *mode)
{
  if (!*mode)
  {
    struct stat st ;
    if (fstat(fd, &st) < 0) return 0 ;
    *mode = st.st_mode & 07777 & ~S_ISVTX ;
    if (!(st.st_mode & S_ISVTX) == !used) return 1 ;
  }
  return fchmod(fd, used ? *mode | S_ISVTX : *mode) == 0 ;
}

 /* 1 if the resource was handed out and not emptied since, 0 if not, -1 if it cannot be told. */
int hp_resource_marked (int fd)
{
  struct stat st ;
  if (fstat(fd, &st) < 0) return -1 ;
  return !!(st.st_mode & S_ISVTX) ;
}
