/* ISC license. */

#include "hppool.h"

 /*
   Whether want more bytes of memory can be taken on this machine and
   still leave HP_MARGIN of it available (MemAvailable: free memory and
   what the kernel can reclaim without swapping). shmem and mlocked
   pages are charged page by page and do not fail when memory runs out:
   the OOM killer runs instead. So look before taking. 1: fits (or the
   kernel does not say), 0: does not.
 */

int hp_mem_fits (uint64_t want)
{
  uint64_t avail, total, margin ;
  if (!hp_meminfo("MemAvailable", &avail) || !hp_meminfo("MemTotal", &total)) return 1 ;
  avail <<= 10 ; total <<= 10 ;
  margin = total >> HP_MARGIN_SHIFT ;
  if (margin < HP_MARGIN_MACHINE_MIN) margin = HP_MARGIN_MACHINE_MIN ;
  return avail >= want && avail - want >= margin ;
}
