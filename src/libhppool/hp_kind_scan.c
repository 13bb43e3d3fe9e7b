/* ISC license. */

#include <string.h>

#include "hppool.h"

int hp_kind_scan (char const *s, unsigned int *kind)
{
  for (unsigned int i = 0 ; i < HP_KIND_N ; i++)
    if (!strcmp(s, hp_kind_names[i]))
    {
      *kind = i ;
      return 1 ;
    }
  return 0 ;
}
