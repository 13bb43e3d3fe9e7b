/* ISC license. */

/* hp-probe-read: run under holdingpen-claim. Maps the whole resource and
   prints "size=S nonzero=N first=OFFSET" (first=-1 when every byte is 0): a
   new holder must see only zeros, never a previous holder's bytes. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/mman.h>
#include <stdio.h>
#include "hp-probe.h"

#define PROG "hp-probe-read"
#define USAGE "hp-probe-read (under holdingpen-claim, no arguments)"

int main (int argc, char const *const *argv)
{
  int fd ;
  size_t size, n = 0 ;
  long long first = -1 ;
  unsigned char const *p ;
  (void)argv ;
  if (argc > 1) hp_dieusage(PROG, USAGE) ;
  fd = hp_env_fd(PROG, "HOLDINGPEN_FD") ;
  size = hp_fdsize(PROG, fd) ;
  p = hp_map(PROG, fd, size, PROT_READ) ;
  for (size_t i = 0 ; i < size ; i++) if (p[i])
  {
    if (first < 0) first = (long long)i ;
    n++ ;
  }
  printf("size=%zu nonzero=%zu first=%lld\n", size, n, first) ;
  return fflush(stdout) ? 111 : 0 ;
}
