/* ISC license. */

/* hp-probe-fdput: runs a program with a descriptor of the test's making
   as its standard input, so that s6-fdholder-store can keep it under a
   name of the test's choosing (records a holdingpend must not believe).
     hp-probe-fdput pidfd PID prog...   a pidfd of process PID
     hp-probe-fdput pair prog...        one end of a new socketpair: its
                                        peer is this very process (the
                                        same pid once prog runs), the
                                        other end fd 3, left open */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/socket.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include "hp-probe.h"

#define PROG "hp-probe-fdput"
#define USAGE "hp-probe-fdput pidfd PID prog... | pair prog..."

static void as_stdin (int fd)
{
  if (fd == 0) { if (fcntl(0, F_SETFD, 0) < 0) hp_die(111, PROG, "fcntl") ; return ; }
  if (dup2(fd, 0) < 0) hp_die(111, PROG, "dup2") ;
  close(fd) ;
}

int main (int argc, char **argv)
{
  if (argc >= 4 && !strcmp(argv[1], "pidfd"))
  {
    unsigned long long pid ;
    int fd ;
    if (!hp_scan_ull(argv[2], &pid) || pid < 2 || pid > 0x3fffffff) hp_dieusage(PROG, USAGE) ;
    fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0) ;
    if (fd < 0) hp_die(111, PROG, "pidfd_open") ;
    as_stdin(fd) ;
    execvp(argv[3], argv + 3) ;
    hp_die(111, PROG, "exec") ;
  }
  if (argc >= 3 && !strcmp(argv[1], "pair"))
  {
    int sv[2] ;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) hp_die(111, PROG, "socketpair") ;
    as_stdin(sv[0]) ;
    if (sv[1] != 3)
    {
      if (dup2(sv[1], 3) < 0) hp_die(111, PROG, "dup2") ;
      close(sv[1]) ;
    }
    execvp(argv[2], argv + 2) ;
    hp_die(111, PROG, "exec") ;
  }
  hp_dieusage(PROG, USAGE) ;
}
