/* ISC license. */

/* hp-probe-touch fd [ seconds ]
   hp-probe-touch anon bytes [ seconds ]
   Writes one byte in every page of some memory, then holds it for that many
   seconds (default: exit at once). "fd": the whole resource of the lease,
   mapped shared from HOLDINGPEN_FD (run under holdingpen-claim). "anon": the
   same number of bytes taken with malloc, as a program without holdingpen
   would. Prints "mapped=BYTES" before the first write and "touched=BYTES"
   after the last, flushed at once: a process killed on the way (the OOM
   killer in a memory cgroup) says how far it went.
   It also serves as the hog that fills a cgroup: "anon" with seconds. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hp-probe.h"

#define PROG "hp-probe-touch"
#define USAGE "hp-probe-touch fd [ seconds ] | hp-probe-touch anon bytes [ seconds ]"

int main (int argc, char const *const *argv)
{
  unsigned long long secs = 0, want = 0 ;
  size_t page = hp_pagesize() ;
  size_t len ;
  unsigned char *p ;
  int i = 2 ;
  if (argc < 2) hp_dieusage(PROG, USAGE) ;
  if (!strcmp(argv[1], "fd"))
  {
    int fd = hp_env_fd(PROG, "HOLDINGPEN_FD") ;
    len = hp_fdsize(PROG, fd) ;
    p = hp_map(PROG, fd, len, PROT_READ | PROT_WRITE) ;
  }
  else if (!strcmp(argv[1], "anon"))
  {
    if (argc < 3 || !hp_scan_ull(argv[2], &want) || !want || want > (size_t)-1) hp_dieusage(PROG, USAGE) ;
    len = (size_t)want ;
    p = malloc(len) ;
    if (!p) hp_die(111, PROG, "malloc") ;
    i = 3 ;
  }
  else hp_dieusage(PROG, USAGE) ;
  if (argc > i + 1 || (argc == i + 1 && !hp_scan_ull(argv[i], &secs))) hp_dieusage(PROG, USAGE) ;

  printf("mapped=%zu\n", len) ;
  fflush(stdout) ;
  {
    volatile unsigned char *q = p ;
    for (size_t off = 0 ; off < len ; off += page) q[off] = (unsigned char)((off / page) | 1) ;
  }
  printf("touched=%zu\n", len) ;
  if (fflush(stdout)) return 111 ;
  while (secs)
  {
    unsigned int s = secs > 1000 ? 1000 : (unsigned int)secs ;
    secs -= s ;
    sleep(s) ;
  }
  return 0 ;
}
