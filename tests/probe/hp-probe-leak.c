/* ISC license. */

/* hp-probe-leak reportfile [ maxseconds ]: run under holdingpen-claim.
   Writes the pattern over the resource, then forks a child that keeps a copy
   of the resource fd and a mapping of it, but closes HOLDINGPEN_LEASEFD: a
   holder that leaked its memory to another process. The parent prints
   "written=SIZE" and "child=PID" and exits, which ends the lease.
   The child detaches from stdio and waits (at most maxseconds, default 120).
   Each SIGUSR1 makes it write to reportfile (atomically, by rename):
     n=K size=S resident=R nonzero=N first=OFFSET
   resident: pages of its mapping still in memory (mincore, no access);
   nonzero/first: bytes it can still read through its fd (pread).
   After the lease ended both must be 0: the leaked copy keeps no memory and
   sees nothing of what the next holder writes. SIGTERM ends it. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "hp-probe.h"

#define PROG "hp-probe-leak"
#define USAGE "hp-probe-leak reportfile [ maxseconds ]"

static void report (char const *file, unsigned int n, int fd, unsigned char *p, size_t size)
{
  char tmp[4096] ;
  long long first ;
  size_t now = hp_fdsize(PROG, fd) ;
  size_t resident = hp_resident(PROG, p, size) ;
  size_t nonzero = hp_count_nonzero_fd(PROG, fd, now, &first) ;
  FILE *f ;
  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= sizeof(tmp)) { errno = 0 ; hp_die(100, PROG, "reportfile name too long") ; }
  f = fopen(tmp, "w") ;
  if (!f) hp_die(111, PROG, "open report") ;
  fprintf(f, "n=%u size=%zu resident=%zu nonzero=%zu first=%lld\n", n, now, resident, nonzero, first) ;
  if (fclose(f)) hp_die(111, PROG, "write report") ;
  if (rename(tmp, file) < 0) hp_die(111, PROG, "rename report") ;
}

int main (int argc, char const *const *argv)
{
  unsigned long long maxsecs = 120 ;
  sigset_t set ;
  int fd, leasefd ;
  size_t size ;
  unsigned char *p ;
  pid_t pid ;
  if (argc < 2 || argc > 3 || !argv[1][0] || (argc == 3 && !hp_scan_ull(argv[2], &maxsecs))) hp_dieusage(PROG, USAGE) ;
  fd = hp_env_fd(PROG, "HOLDINGPEN_FD") ;
  leasefd = hp_env_fd(PROG, "HOLDINGPEN_LEASEFD") ;
  size = hp_fdsize(PROG, fd) ;
  p = hp_map(PROG, fd, size, PROT_READ | PROT_WRITE) ;
  hp_fill(p, size) ;

  /* blocked before fork: a SIGUSR1 sent as soon as the pid is printed
     must wait for sigtimedwait, not kill the child */
  sigemptyset(&set) ;
  sigaddset(&set, SIGUSR1) ;
  if (sigprocmask(SIG_BLOCK, &set, 0) < 0) hp_die(111, PROG, "sigprocmask") ;
  if (fflush(stdout)) hp_die(111, PROG, "write to stdout") ;

  pid = fork() ;
  if (pid < 0) hp_die(111, PROG, "fork") ;
  if (pid)
  {
    printf("written=%zu\nchild=%ld\n", size, (long)pid) ;
    return fflush(stdout) ? 111 : 0 ;
  }

  /* the child: no lease, no stdio (a test reading our output through a pipe
     must not wait for us), only the resource fd and the mapping */
  close(leasefd) ;
  {
    int nul = open("/dev/null", O_RDWR) ;
    if (nul < 0) hp_die(111, PROG, "open /dev/null") ;
    dup2(nul, 0) ; dup2(nul, 1) ; dup2(nul, 2) ;
    if (nul > 2) close(nul) ;
  }
  setsid() ;
  {
    struct timespec deadline ;
    unsigned int n = 0 ;
    if (clock_gettime(CLOCK_MONOTONIC, &deadline) < 0) return 111 ;
    deadline.tv_sec += (time_t)maxsecs ;
    for (;;)
    {
      struct timespec now, left ;
      if (clock_gettime(CLOCK_MONOTONIC, &now) < 0) return 111 ;
      if (now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) return 0 ;
      left.tv_sec = deadline.tv_sec - now.tv_sec ;
      left.tv_nsec = deadline.tv_nsec - now.tv_nsec ;
      if (left.tv_nsec < 0) { left.tv_sec-- ; left.tv_nsec += 1000000000L ; }
      if (sigtimedwait(&set, 0, &left) == SIGUSR1) report(argv[1], ++n, fd, p, size) ;
    }
  }
}
