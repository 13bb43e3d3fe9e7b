/* ISC license. */

#include <string.h>

#include <skalibs/types.h>
#include <skalibs/djbunix.h>

#include "hppool.h"

 /* The default hugepage size, as the kernel says in /proc/meminfo; 0 if none. */

uint64_t hp_hugepagesize (void)
{
  char buf[8192] ;
  ssize_t r = openreadnclose("/proc/meminfo", buf, sizeof(buf) - 1) ;
  char *p ;
  uint64_t kb ;
  if (r <= 0) return 0 ;
  buf[r] = 0 ;
  p = strstr(buf, "Hugepagesize:") ;
  if (!p) return 0 ;
  p += 13 ;
  while (*p == ' ') p++ ;
  if (!uint64_scan(p, &kb)) return 0 ;
  return kb << 10 ;
}
