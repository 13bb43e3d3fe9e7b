/* ISC license. */

/* hp-probe-write [ seconds ]: run under holdingpen-claim. Writes a
   recognisable pattern over the whole resource, prints "written=SIZE", then
   keeps holding the lease for that many seconds (default: exit at once), so
   that a test can kill a holder whose memory is dirty. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/mman.h>
#include <stdio.h>
#include <unistd.h>
#include "hp-probe.h"

#define PROG "hp-probe-write"
#define USAGE "hp-probe-write [ seconds ]"

int main (int argc, char const *const *argv)
{
  unsigned long long secs = 0 ;
  int fd ;
  size_t size ;
  unsigned char *p ;
  if (argc > 2 || (argc == 2 && !hp_scan_ull(argv[1], &secs))) hp_dieusage(PROG, USAGE) ;
  fd = hp_env_fd(PROG, "HOLDINGPEN_FD") ;
  size = hp_fdsize(PROG, fd) ;
  p = hp_map(PROG, fd, size, PROT_READ | PROT_WRITE) ;
  hp_fill(p, size) ;
  printf("written=%zu\n", size) ;
  if (fflush(stdout)) hp_die(111, PROG, "write to stdout") ;
  while (secs--) sleep(1) ;
  return 0 ;
}
