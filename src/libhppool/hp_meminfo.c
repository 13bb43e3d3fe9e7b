/* ISC license. */

#include <string.h>

#include <skalibs/types.h>

#include "hppool.h"

 /*
   A field of /proc/meminfo as the kernel prints it: kB for sizes, a
   plain number for counts (HugePages_Free). 1 if found, 0 if not.
 */

typedef struct want_s want, *want_ref ;
struct want_s
{
  char const *key ;
  size_t klen ;
  uint64_t *value ;
  int found ;
} ;

static int field (char *s, size_t len, int cut, void *data)
{
  want *w = data ;
  (void)cut ;
  if (len <= w->klen || memcmp(s, w->key, w->klen) || s[w->klen] != ':') return 1 ;
  s += w->klen + 1 ;
  while (*s == ' ') s++ ;
  w->found = !!uint64_scan(s, w->value) ;
  return 0 ;
}

int hp_meminfo (char const *key, uint64_t *value)
{
  want w = { .key = key, .klen = strlen(key), .value = value, .found = 0 } ;
  return hp_lines("/proc/meminfo", &field, &w) && w.found ;
}
