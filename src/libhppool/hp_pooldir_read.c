/* ISC license. */

#include <errno.h>
#include <string.h>
#include <stdlib.h>

#include <skalibs/direntry.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>

#include "hppool.h"

 /*
   Reads every pool of a pool directory into pools (hp_poolconf), sorted
   by name so that slots and logs come out in a stable order. All or
   nothing: 1 with every pool read, 0 if one is refused (err says which
   and why), -1 on system error; pools is left as it was unless 1.
 */

static int cmp (void const *a, void const *b)
{
  return strcmp(((hp_poolconf const *)a)->name, ((hp_poolconf const *)b)->name) ;
}

int hp_pooldir_read (genalloc *pools, char const *dir, stralloc *err)
{
  genalloc ga = GENALLOC_ZERO ;
  DIR *d = opendir(dir) ;
  int r = 1 ;
  if (!d) return -1 ;
  for (;;)
  {
    hp_poolconf p ;
    direntry *e ;
    errno = 0 ;
    e = readdir(d) ;
    if (!e) { if (errno) r = -1 ; break ; }
    if (e->d_name[0] == '.') continue ;
    r = hp_poolconf_read(&p, dir, e->d_name, err) ;
    if (r <= 0) break ;
    if (!genalloc_append(hp_poolconf, &ga, &p)) { r = -1 ; break ; }
  }
  dir_close(d) ;
  if (r <= 0)
  {
    genalloc_free(hp_poolconf, &ga) ;
    return r ;
  }
  if (genalloc_len(hp_poolconf, &ga) > 1)
    qsort(genalloc_s(hp_poolconf, &ga), genalloc_len(hp_poolconf, &ga), sizeof(hp_poolconf), &cmp) ;
  genalloc_free(hp_poolconf, pools) ;
  *pools = ga ;
  return 1 ;
}
