/* ISC license. */

/* hp-probe-getfd pid fd prog...
   Runs prog with a copy of descriptor fd of process pid as its standard
   input (pidfd_getfd: same open file, so the same socket, not a new
   one). The tests use it to store the listening socket of a running
   holdingpend in the fd holder themselves:
     hp-probe-getfd PID 0 s6-fdholder-store FDHOLDER holdingpen/listen/PATH */

#include <sys/syscall.h>
#include <fcntl.h>

#include "hp-probe.h"

#define PROG "hp-probe-getfd"

int main (int argc, char **argv)
{
  unsigned long long pid, fd ;
  int pidfd, copy ;
  if (argc < 4 || !hp_scan_ull(argv[1], &pid) || !hp_scan_ull(argv[2], &fd) || !pid || fd > 0x7fffffff)
    hp_dieusage(PROG, "hp-probe-getfd pid fd prog...") ;
  pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0) ;
  if (pidfd < 0) hp_die(111, PROG, "pidfd_open") ;
  copy = (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0) ;
  if (copy < 0) hp_die(111, PROG, "pidfd_getfd") ;
  close(pidfd) ;
  if (copy != 0)
  {
    if (dup2(copy, 0) < 0) hp_die(111, PROG, "dup2") ;
    close(copy) ;
  }
  else if (fcntl(0, F_SETFD, 0) < 0) hp_die(111, PROG, "fcntl") ;
  execvp(argv[3], argv + 3) ;
  hp_die(111, PROG, "exec") ;
}
