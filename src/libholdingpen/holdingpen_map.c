/* ISC license. */

#include <errno.h>
#include <sys/mman.h>

#include <holdingpen/holdingpen.h>

 /*
   Maps a claimed memfd or file whole, shared; 0 with errno on failure.
   The pages are already there: MAP_POPULATE builds the page tables now,
   so that the program's first touches cost no fault at all.
 */

void *holdingpen_map (holdingpen_lease const *lease, int prot)
{
  void *p ;
  if (lease->fd < 0 || !lease->size || lease->size > (uint64_t)SIZE_MAX) return (errno = EINVAL, (void *)0) ;
  p = mmap(0, (size_t)lease->size, prot, MAP_SHARED | MAP_POPULATE, lease->fd, 0) ;
  return p == MAP_FAILED ? 0 : p ;
}
