/* ISC license. */

#include <skalibs/genalloc.h>

#include "holdingpend-internal.h"

 /*
   Counts per uid (a pool's claims, the daemon's connections) in a small
   array with one entry for each uid that has something counted: the
   set of uids on a machine is small, and an entry goes when its count
   falls to zero.
*/

uidcount *uidcount_find (genalloc const *ga, uid_t uid)
{
  uidcount *u = genalloc_s(uidcount, ga) ;
  size_t n = genalloc_len(uidcount, ga) ;
  for (size_t i = 0 ; i < n ; i++) if (u[i].uid == uid) return u + i ;
  return 0 ;
}

 /* One more for uid, whose entry uidcount_find gave as u (0: none yet). 0 if the array cannot grow. */
int uidcount_inc (genalloc *ga, uidcount *u, uid_t uid)
{
  uidcount nu = { .uid = uid, .n = 1, .warned = 0 } ;
  if (u) { u->n++ ; return 1 ; }
  return genalloc_append(uidcount, ga, &nu) ;
}

 /* One less for u's uid; the entry goes at zero. */
void uidcount_dec (genalloc *ga, uidcount *u)
{
  size_t n = genalloc_len(uidcount, ga) ;
  if (--u->n) return ;
  *u = genalloc_s(uidcount, ga)[n - 1] ;
  genalloc_setlen(uidcount, ga, n - 1) ;
}
