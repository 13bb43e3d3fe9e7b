/* ISC license. */

#include <string.h>

#include "hppool.h"

 /* The embedded pool that serves when there is no pool directory at all. */

void hp_poolconf_default (hp_poolconf *p)
{
  memset(p, 0, sizeof(hp_poolconf)) ;
  memcpy(p->name, "default", 8) ;
  p->kind = HP_KIND_MEMFD ;
  p->size = (uint64_t)64 << 20 ;
  p->count = 2 ;
  p->killdelay = HP_DEFAULT_KILLDELAY ;
}
