/* ISC license. */

#include <skalibs/stralloc.h>

#include "hppool.h"

 /* Every refusal names the pool and the file: "pool P: file F: what". */

int hp_conferr (stralloc *err, char const *pool, char const *file, char const *what)
{
  err->len = 0 ;
  if (!stralloc_cats(err, "pool ")
   || !stralloc_cats(err, pool)
   || !stralloc_cats(err, ": file ")
   || !stralloc_cats(err, file)
   || !stralloc_cats(err, ": ")
   || !stralloc_cats(err, what)
   || !stralloc_0(err)) return -1 ;
  err->len-- ;
  return 0 ;
}
