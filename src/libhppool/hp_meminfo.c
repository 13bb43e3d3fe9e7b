/* ISC license. */

#include <string.h>

#include <skalibs/types.h>
#include <skalibs/djbunix.h>

#include "hppool.h"

 /*
   A field of /proc/meminfo as the kernel prints it: kB for sizes, a
   plain number for counts (HugePages_Free). 1 if found, 0 if not.
 */

int hp_meminfo (char const *key, uint64_t *value)
{
  char buf[8192] ;
  size_t klen = strlen(key) ;
  ssize_t r = openreadnclose("/proc/meminfo", buf, sizeof(buf) - 1) ;
  char *p = buf ;
  if (r <= 0) return 0 ;
  buf[r] = 0 ;
  for (;;)
  {
    if (!strncmp(p, key, klen) && p[klen] == ':')
    {
      p += klen + 1 ;
      while (*p == ' ') p++ ;
      return !!uint64_scan(p, value) ;
    }
    p = strchr(p, '\n') ;
    if (!p++) return 0 ;
  }
}
