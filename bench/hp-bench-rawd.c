/* ISC license. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/error.h>
#include <skalibs/djbunix.h>
#include <skalibs/socket.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/unixmessage.h>
#include <skalibs/unixconnection.h>

#define USAGE "hp-bench-rawd [ -c maxconn ] [ -s size ]"
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   The baseline of the claim benchmark: the least a server can do to hand
   a client a resource fd, built the way holdingpend is. Its stdin is a
   bound, listening Unix socket (run it under s6-ipcserver-socketbinder);
   one iopause loop over non-blocking sockets; each client is accepted,
   identified (SO_PEERCRED), reads one message, and gets an answer of a
   grant's length with a memfd made in advance (a ready slot) over
   SCM_RIGHTS. The connection is dropped when the client closes it. No
   rules, no pools, no log, no helpers. Exits 0 on SIGTERM or SIGINT.
 */

#define ANSWER_LEN 23   /* a grant: code, lease:u64, size:u64, "memfd" */

typedef struct conn_s conn, *conn_ref ;
struct conn_s
{
  unixconnection c ;
  unsigned int xindex ;
  unsigned int active : 1 ;
} ;

static void conn_close (conn *c)
{
  fd_close(unixmessage_sender_fd(&c->c.out)) ;
  unixconnection_free(&c->c) ;
  c->active = 0 ;
}

static void conn_read (conn *c, int memfd)
{
  static char answer[ANSWER_LEN] = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0memfd" ;
  for (;;)
  {
    unixmessage m ;
    int r = unixmessage_receive(&c->c.in, &m) ;
    if (r < 0)
    {
      if (!error_isagain(errno)) conn_close(c) ;
      return ;
    }
    if (!r) return ;
    unixmessage_drop(&m) ;
    {
      unixmessage a = { .s = answer, .len = ANSWER_LEN, .fds = &memfd, .nfds = 1 } ;
      if (!unixmessage_put(&c->c.out, &a)) strerr_diefu1sys(111, "queue an answer") ;
    }
    if (!unixmessage_sender_flush(&c->c.out) && !error_isagain(errno))
    {
      conn_close(c) ;
      return ;
    }
  }
}

static int handle_signals (void)
{
  for (;;)
  {
    switch (selfpipe_read())
    {
      case -1 : strerr_diefu1sys(111, "selfpipe_read") ;
      case 0 : return 1 ;
      case SIGTERM :
      case SIGINT : return 0 ;
      default : break ;
    }
  }
}

static void accept_all (conn *conns, unsigned int maxconn, unsigned int *nconn)
{
  while (*nconn < maxconn)
  {
    struct ucred cred ;
    socklen_t credlen = sizeof(cred) ;
    unsigned int i = 0 ;
    int fd = ipc_accept_nbcoe(0, 0, 0, 0) ;
    if (fd < 0)
    {
      if (!error_isagain(errno) && errno != ECONNABORTED) strerr_warnwu1sys("accept") ;
      return ;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) < 0)
    {
      strerr_warnwu1sys("get the credentials of a client") ;
      fd_close(fd) ;
      continue ;
    }
    while (conns[i].active) i++ ;
    unixconnection_init(&conns[i].c, fd, fd) ;
    conns[i].active = 1 ;
    (*nconn)++ ;
  }
}

int main (int argc, char const *const *argv)
{
  unsigned int maxconn = 64 ;
  uint64_t size = 4096 ;
  unsigned int nconn = 0 ;
  conn *conns ;
  iopause_fd *x ;
  int memfd, spfd ;
  PROG = "hp-bench-rawd" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "c:s:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'c' : if (!uint0_scan(l.arg, &maxconn) || !maxconn) dieusage() ; break ;
        case 's' : if (!uint640_scan(l.arg, &size) || !size) dieusage() ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (argc) dieusage() ;
  {
    int type ;
    socklen_t len = sizeof(type) ;
    if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
      strerr_dief1x(100, "stdin is not a stream socket") ;
  }
  if (ndelay_on(0) < 0) strerr_diefu1sys(111, "make the socket non-blocking") ;
  memfd = memfd_create("hp-bench-rawd", MFD_CLOEXEC) ;
  if (memfd < 0) strerr_diefu1sys(111, "memfd_create") ;
  if (fallocate(memfd, 0, 0, (off_t)size) < 0) strerr_diefu1sys(111, "fallocate the memfd") ;
  spfd = selfpipe_init() ;
  if (spfd < 0) strerr_diefu1sys(111, "selfpipe_init") ;
  {
    sigset_t set ;
    sigemptyset(&set) ;
    sigaddset(&set, SIGTERM) ;
    sigaddset(&set, SIGINT) ;
    if (!selfpipe_trapset(&set)) strerr_diefu1sys(111, "trap signals") ;
  }
  conns = calloc(maxconn, sizeof(conn)) ;
  x = calloc(maxconn + 2, sizeof(iopause_fd)) ;
  if (!conns || !x) strerr_diefu1sys(111, "allocate") ;

  for (;;)
  {
    unsigned int n = 2 ;
    int r ;
    x[0].fd = spfd ; x[0].events = IOPAUSE_READ ;
    x[1].fd = 0 ; x[1].events = nconn < maxconn ? IOPAUSE_READ : 0 ;
    for (unsigned int i = 0 ; i < maxconn ; i++) if (conns[i].active)
    {
      x[n].fd = unixmessage_receiver_fd(&conns[i].c.in) ;
      x[n].events = IOPAUSE_READ | (unixmessage_sender_isempty(&conns[i].c.out) ? 0 : IOPAUSE_WRITE) ;
      conns[i].xindex = n++ ;
    }
    r = iopause_g(x, n, 0) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefu1sys(111, "iopause") ;
    }
    if (x[0].revents & IOPAUSE_READ && !handle_signals()) break ;
    for (unsigned int i = 0 ; i < maxconn ; i++) if (conns[i].active)
    {
      iopause_fd const *y = x + conns[i].xindex ;
      if (y->revents & IOPAUSE_WRITE && !unixmessage_sender_flush(&conns[i].c.out) && !error_isagain(errno))
      {
        conn_close(conns + i) ;
        nconn-- ;
        continue ;
      }
      if (y->revents & (IOPAUSE_READ | IOPAUSE_EXCEPT))
      {
        conn_read(conns + i, memfd) ;
        if (!conns[i].active) nconn-- ;
      }
    }
    if (x[1].revents & IOPAUSE_READ) accept_all(conns, maxconn, &nconn) ;
  }
  return 0 ;
}
