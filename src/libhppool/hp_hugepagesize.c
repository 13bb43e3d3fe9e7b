/* ISC license. */

#include "hppool.h"

 /* The default hugepage size, as the kernel says in /proc/meminfo; 0 if none. */

uint64_t hp_hugepagesize (void)
{
  uint64_t kb ;
  return hp_meminfo("Hugepagesize", &kb) ? kb << 10 : 0 ;
}
