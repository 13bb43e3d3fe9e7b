/* ISC license. */

#include "hppool.h"

char const *const hp_kind_names[HP_KIND_N] =
{
  "memfd",
  "hugetlb",
  "file",
  "ballast-mem",
  "ballast-disk"
} ;
