/* ISC license. */

/* hp-probe-peer: how holdingpend proves who is at the other end of a
   connection without SO_PEERPIDFD (hp_peer_pidfd with HP_PEER_PROVE).
   One line per case, "CASE pidfd=yes|no":
     holds   the pid is a live process that has the other end
     closed  the pid is a live process that had it and closed it
     other   the pid is a live process that never had it
     gone    the pid had it, then exited and was reaped
     early   the pid has it among 5,000 fds, before the others
     late    the pid has it after 5,000 other fds: past what the
             proof reads (HP_PEER_FDS_MAX), so not proven */

#include <sys/socket.h>
#include <sys/wait.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/resource.h>

#include "hp-probe.h"
#include "hpwire.h"

#define PROG "hp-probe-peer"

 /* a child that keeps (or not) end b of the pair, and waits on its own pipe to go */
#define CROWD 5000

 /* crowd: 0 no other fds; 1 end b first, then CROWD others; 2 CROWD others, then end b */
static void crowd_fds (int b, int crowd)
{
  struct rlimit r = { .rlim_cur = CROWD + 64, .rlim_max = CROWD + 64 } ;
  int null ;
  if (!crowd) return ;
  if (setrlimit(RLIMIT_NOFILE, &r) < 0) hp_die(111, PROG, "setrlimit") ;
  null = open("/dev/null", O_RDONLY) ;
  if (null < 0) hp_die(111, PROG, "open /dev/null") ;
  for (int fd = 10 ; fd < 10 + CROWD ; fd++) if (fd != b && dup2(null, fd) < 0) hp_die(111, PROG, "dup2") ;
  if (crowd == 2)
  {
    if (dup2(b, CROWD + 20) < 0) hp_die(111, PROG, "dup2") ;
    close(b) ;
  }
}

static pid_t child (int a, int b, int keep, int crowd, int *go)
{
  int p[2] ;
  pid_t pid ;
  if (pipe(p) < 0) hp_die(111, PROG, "pipe") ;
  pid = fork() ;
  if (pid < 0) hp_die(111, PROG, "fork") ;
  if (!pid)
  {
    char c ;
    close(a) ;
    if (!keep) close(b) ;
    close(p[1]) ;
    crowd_fds(b, crowd) ;
    while (read(p[0], &c, 1) < 0 && errno == EINTR) ;
    _exit(0) ;
  }
  close(p[0]) ;
  *go = p[1] ;
  return pid ;
}

static void end_child (pid_t pid, int go)
{
  close(go) ;
  waitpid(pid, 0, 0) ;
}

static void report (char const *name, int a, pid_t pid)
{
  int fd = hp_peer_pidfd(a, pid, HP_PEER_PROVE) ;
  printf("%s pidfd=%s\n", name, fd >= 0 ? "yes" : "no") ;
  if (fd >= 0) close(fd) ;
}

int main (void)
{
  int sv[2] ;
  int go, go2 ;
  pid_t pid, pid2 ;
  signal(SIGPIPE, SIG_IGN) ;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) hp_die(111, PROG, "socketpair") ;

  pid = child(sv[0], sv[1], 1, 0, &go) ;
  close(sv[1]) ;
   /* the child now holds the only other copy of sv[1] */
  report("holds", sv[0], pid) ;

  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) hp_die(111, PROG, "socketpair") ;
  pid2 = child(sv[0], sv[1], 0, 0, &go2) ;
  close(sv[1]) ;
  usleep(100000) ;
  report("closed", sv[0], pid2) ;
  report("other", sv[0], pid) ;
  end_child(pid2, go2) ;

  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) hp_die(111, PROG, "socketpair") ;
  end_child(pid, go) ;
  pid = child(sv[0], sv[1], 1, 0, &go) ;
  close(sv[1]) ;
  end_child(pid, go) ;
  report("gone", sv[0], pid) ;

  for (int crowd = 1 ; crowd <= 2 ; crowd++)
  {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) hp_die(111, PROG, "socketpair") ;
    pid = child(sv[0], sv[1], 1, crowd, &go) ;
    close(sv[1]) ;
    usleep(300000) ;
    report(crowd == 1 ? "early" : "late", sv[0], pid) ;
    end_child(pid, go) ;
    close(sv[0]) ;
  }
  return 0 ;
}
