/* ISC license. */

#include <errno.h>
#include <unistd.h>
#include <sys/resource.h>

#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>
#include <skalibs/tai.h>
#include <skalibs/unixconnection.h>

#include <holdingpen/holdingpen.h>

#define USAGE "hp-bench-hold [ -t millisecs ] n socket pool"
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   A cheap holder of many leases: one process claims n slots of a pool,
   one after the other, each claim waiting at most millisecs (default
   10000) for a slot, and keeps every lease, that is its connection; the
   resource fds are closed. Once all are held it writes "held n" to
   stdout, then waits for end of file on stdin: then it exits, and the
   leases end with it. A holder whose stdin is a pipe or a fifo from a
   script ends when the script does, whatever ends it.
 */

int main (int argc, char const *const *argv)
{
  unsigned int n, t = 10000 ;
  PROG = "hp-bench-hold" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "t:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 't' : if (!uint0_scan(l.arg, &t)) dieusage() ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (argc != 3 || !uint0_scan(argv[0], &n)) dieusage() ;

   /* every lease is an fd */
  {
    struct rlimit rl ;
    rlim_t need = (rlim_t)n + 64 ;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) strerr_diefu1sys(111, "getrlimit") ;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
    {
      if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
        strerr_dief1x(111, "the hard limit on open files is too low for the leases asked: raise ulimit -n") ;
      rl.rlim_cur = need ;
      if (setrlimit(RLIMIT_NOFILE, &rl) < 0) strerr_diefu1sys(111, "raise RLIMIT_NOFILE") ;
    }
  }

  tain_now_set_stopwatch_g() ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    holdingpen a = HOLDINGPEN_ZERO ;
    holdingpen_lease lease = HOLDINGPEN_LEASE_ZERO ;
    tain deadline ;
    int r ;
    tain_now_g() ;
    tain_addsec_g(&deadline, 10) ;
    if (!holdingpen_start_g(&a, argv[1], &deadline)) strerr_diefu2sys(111, "connect to ", argv[1]) ;
    tain_now_g() ;
    tain_addsec_g(&deadline, 10 + t / 1000) ;
    r = holdingpen_claim_g(&a, &lease, argv[2], t, 0, &deadline) ;
    if (r < 0) strerr_diefu4sys(111, "claim from ", argv[1], " pool ", argv[2]) ;
    if (r) strerr_dief6x(r, "claim from ", argv[1], " pool ", argv[2], " refused: ", holdingpen_code_str(r)) ;
    if (lease.fd >= 0) fd_close(lease.fd) ;
     /* the lease is the connection's fd: kept, the rest freed */
    unixconnection_free(&a.connection) ;
  }
  {
    char fmt[UINT_FMT] ;
    buffer_puts(buffer_1, "held ") ;
    buffer_put(buffer_1, fmt, uint_fmt(fmt, n)) ;
    buffer_putflush(buffer_1, "\n", 1) ;
  }
  for (;;)
  {
    char c ;
    ssize_t r = read(0, &c, 1) ;
    if (!r) break ;
    if (r < 0 && errno != EINTR) strerr_diefu1sys(111, "read stdin") ;
  }
  return 0 ;
}
