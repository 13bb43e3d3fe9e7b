/* ISC license. */

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hppool.h"

 /*
   Empties a resource in place, so that whoever else has an fd to it
   (the holder of an ended lease, a child it gave it to) holds no memory
   or block through it: closing ours would free nothing then. A memfd
   is sealed against shrinking: its pages are punched out, its size
   stays. A file is not sealed: truncating frees its blocks wherever a
   leaker wrote them, past its old size too. The kind is read from the
   fd itself, not from a pool a reload may have changed since.
   *held: the bytes it held. 1: emptied; 0: errno set.
 */

int hp_resource_empty (int fd, uint64_t *held)
{
  struct stat st ;
  int seals = fcntl(fd, F_GET_SEALS) ;
  if (fstat(fd, &st) < 0) return 0 ;
  *held = (uint64_t)st.st_blocks << 9 ;
  if (seals < 0 || !(seals & F_SEAL_SHRINK))
    return !st.st_blocks || ftruncate(fd, 0) == 0 ;
  return !st.st_size || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, st.st_size) == 0 ;
}
