/* ISC license. */

/* hp-probe-memfd: run under holdingpen-claim. Looks at the resource fd the
   way a careful holder would and prints what it sees, one key=value per line,
   for the tests to compare with what the pool promises:
     fd env_size kind is_memfd rdwr size seal_grow seal_shrink seal_seal
     seal_write leasefd_socket pages resident minflt majflt resident_after
   "resident" is counted with mincore right after mmap, before any access:
   a pool's pages must already be there. Then every page is written once and
   the faults this cost are reported (getrusage): they must all be minor. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hp-probe.h"

#define PROG "hp-probe-memfd"
#define USAGE "hp-probe-memfd (under holdingpen-claim, no arguments)"

int main (int argc, char const *const *argv)
{
  char path[64] ;
  char link[PATH_MAX] ;
  struct stat st ;
  struct rusage ru0, ru1 ;
  size_t page = hp_pagesize() ;
  size_t pages ;
  unsigned char *p ;
  char const *kind = getenv("HOLDINGPEN_KIND") ;
  int fd, leasefd, flags, seals ;
  ssize_t r ;
  (void)argv ;
  if (argc > 1) hp_dieusage(PROG, USAGE) ;

  fd = hp_env_fd(PROG, "HOLDINGPEN_FD") ;
  printf("fd=%d\nenv_size=%llu\nkind=%s\n", fd, hp_env_ull(PROG, "HOLDINGPEN_SIZE"), kind ? kind : "") ;

  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd) ;
  r = readlink(path, link, sizeof(link) - 1) ;
  if (r < 0) hp_die(111, PROG, "readlink resource fd") ;
  link[r] = 0 ;
  printf("is_memfd=%d\n", !strncmp(link, "/memfd:", 7)) ;

  flags = fcntl(fd, F_GETFL) ;
  if (flags < 0) hp_die(111, PROG, "fcntl F_GETFL") ;
  printf("rdwr=%d\n", (flags & O_ACCMODE) == O_RDWR) ;

  if (fstat(fd, &st) < 0) hp_die(111, PROG, "fstat resource fd") ;
  printf("size=%lld\n", (long long)st.st_size) ;

  seals = fcntl(fd, F_GET_SEALS) ;
  if (seals < 0) seals = 0 ;  /* EINVAL: not a sealable file: no seals */
  printf("seal_grow=%d\nseal_shrink=%d\nseal_seal=%d\nseal_write=%d\n",
    !!(seals & F_SEAL_GROW), !!(seals & F_SEAL_SHRINK), !!(seals & F_SEAL_SEAL), !!(seals & F_SEAL_WRITE)) ;

  leasefd = hp_env_fd(PROG, "HOLDINGPEN_LEASEFD") ;
  {
    struct stat lst ;
    printf("leasefd_socket=%d\n", fstat(leasefd, &lst) == 0 && S_ISSOCK(lst.st_mode)) ;
  }
  fflush(stdout) ;

  if (st.st_size <= 0) return 0 ;
  pages = ((size_t)st.st_size + page - 1) / page ;
  printf("pages=%zu\n", pages) ;
  p = hp_map(PROG, fd, (size_t)st.st_size, PROT_READ | PROT_WRITE) ;
  printf("resident=%zu\n", hp_resident(PROG, p, (size_t)st.st_size)) ;
  fflush(stdout) ;

  if (getrusage(RUSAGE_SELF, &ru0) < 0) hp_die(111, PROG, "getrusage") ;
  {
    volatile unsigned char *q = p ;
    for (size_t i = 0 ; i < pages ; i++) q[i * page] = (unsigned char)(i | 1) ;
  }
  if (getrusage(RUSAGE_SELF, &ru1) < 0) hp_die(111, PROG, "getrusage") ;
  printf("minflt=%ld\nmajflt=%ld\n", ru1.ru_minflt - ru0.ru_minflt, ru1.ru_majflt - ru0.ru_majflt) ;
  printf("resident_after=%zu\n", hp_resident(PROG, p, (size_t)st.st_size)) ;
  return fflush(stdout) ? 111 : 0 ;
}
