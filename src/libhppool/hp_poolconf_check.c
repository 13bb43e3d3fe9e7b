/* ISC license. */

#include <skalibs/stralloc.h>

#include "hppool.h"

 /*
   Checks across files, and those that need the machine: a hugetlb size
   must be a whole number of hugepages, or no helper could ever create it.
   hugepagesize is passed in (0: the kernel has none) to keep this testable.
 */

int hp_poolconf_check (hp_poolconf const *p, uint64_t hugepagesize, stralloc *err)
{
  if (hp_kind_isdisk(p->kind) && !p->dir[0])
    return hp_conferr(err, p->name, "dir", "missing, and required for this kind") ;
  if (p->kind == HP_KIND_HUGETLB)
  {
    if (!hugepagesize)
      return hp_conferr(err, p->name, "kind", "hugetlb, but the kernel has no hugepages") ;
    if (p->size % hugepagesize)
      return hp_conferr(err, p->name, "size", "not a multiple of the hugepage size") ;
  }
  if (p->lock && hp_kind_isdisk(p->kind))
    return hp_conferr(err, p->name, "lock", "only memory kinds can be locked") ;
  return 1 ;
}
