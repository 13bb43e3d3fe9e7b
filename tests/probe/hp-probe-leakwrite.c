/* ISC license. */

/* hp-probe-leakwrite delayms bytes donefile: run under holdingpen-claim.
   A holder that gives its resource fd to a child and exits, ending the
   lease; the child, which closed HOLDINGPEN_LEASEFD, waits delayms (the
   slot is scrubbed and reserved again meanwhile), then writes bytes into
   the old file through the fd it kept, and writes "written=N" to donefile
   (atomically, by rename). It then waits, at most 120 s; SIGTERM ends it.
   The parent prints "lease=ID" and "child=PID". */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "hp-probe.h"

#define PROG "hp-probe-leakwrite"
#define USAGE "hp-probe-leakwrite delayms bytes donefile"

int main (int argc, char const *const *argv)
{
  unsigned long long delay, bytes, written = 0 ;
  static char buf[1 << 20] ;
  int fd, leasefd ;
  pid_t pid ;
  if (argc != 4 || !hp_scan_ull(argv[1], &delay) || !hp_scan_ull(argv[2], &bytes) || !argv[3][0]) hp_dieusage(PROG, USAGE) ;
  fd = hp_env_fd(PROG, "HOLDINGPEN_FD") ;
  leasefd = hp_env_fd(PROG, "HOLDINGPEN_LEASEFD") ;
  if (fflush(stdout)) hp_die(111, PROG, "write to stdout") ;
  pid = fork() ;
  if (pid < 0) hp_die(111, PROG, "fork") ;
  if (pid)
  {
    printf("lease=%s\nchild=%ld\n", getenv("HOLDINGPEN_LEASE") ? getenv("HOLDINGPEN_LEASE") : "", (long)pid) ;
    return fflush(stdout) ? 111 : 0 ;
  }
  close(leasefd) ;
  {
    int nul = open("/dev/null", O_RDWR) ;
    if (nul < 0) hp_die(111, PROG, "open /dev/null") ;
    dup2(nul, 0) ; dup2(nul, 1) ; dup2(nul, 2) ;
    if (nul > 2) close(nul) ;
  }
  setsid() ;
  hp_sleep_ms(delay) ;
  memset(buf, 0xab, sizeof(buf)) ;
  while (written < bytes)
  {
    size_t n = bytes - written < sizeof(buf) ? (size_t)(bytes - written) : sizeof(buf) ;
    ssize_t r = pwrite(fd, buf, n, (off_t)written) ;
    if (r <= 0) break ;
    written += (unsigned long long)r ;
  }
  {
    char tmp[4096] ;
    FILE *f ;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", argv[3]) >= sizeof(tmp)) return 100 ;
    f = fopen(tmp, "w") ;
    if (!f) return 111 ;
    fprintf(f, "written=%llu\n", written) ;
    if (fclose(f) || rename(tmp, argv[3]) < 0) return 111 ;
  }
  hp_sleep_ms(120000) ;
  return 0 ;
}
