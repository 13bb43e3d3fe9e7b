/* ISC license. */

#include <sys/mman.h>

#include <holdingpen/holdingpen.h>

int holdingpen_unmap (holdingpen_lease const *lease, void *p)
{
  return munmap(p, (size_t)lease->size) == 0 ;
}
