/* ISC license. */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>
#include <skalibs/tai.h>

#include <s6/supervise.h>

#define USAGE "hp-bench-restart [ -t timeout ] servicedir name"
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   One restart of a supervised service by SIGKILL, timed as s6-supervise
   saw it: the service must be up and ready, its process named name (its
   /proc/pid/comm), checked before the signal. Then waits, at most
   timeout milliseconds (default 30000), until s6-supervise has started
   another process and that one is ready, and prints:

     restart pid=P newpid=Q death_to_spawn_ms=... spawn_to_ready_ms=... death_to_ready_ms=... observed_ms=...

   The first three from s6-supervise's own stamps (the death in
   supervise/death_tally, the spawn and the readiness in
   supervise/status), observed_ms from just before the signal to the
   moment this program saw the readiness (polled every millisecond).
 */

static double ms_between (tain const *a, tain const *b)
{
  tain d ;
  int neg = tain_less(b, a) ;
  if (neg) tain_sub(&d, a, b) ; else tain_sub(&d, b, a) ;
  return (neg ? -1 : 1) * ((double)d.sec.x * 1e3 + (double)d.nano / 1e6) ;
}

static void putms (char const *key, double ms)
{
  char fmt[UINT64_FMT] ;
  uint64_t v ;
  buffer_puts(buffer_1, key) ;
  if (ms < 0) { buffer_puts(buffer_1, "-") ; ms = -ms ; }
  v = (uint64_t)(ms * 10.0 + 0.5) ;
  buffer_put(buffer_1, fmt, uint64_fmt(fmt, v / 10)) ;
  buffer_puts(buffer_1, ".") ;
  buffer_put(buffer_1, fmt, uint64_fmt(fmt, v % 10)) ;
}

static void putpid (char const *key, pid_t pid)
{
  char fmt[PID_FMT] ;
  buffer_puts(buffer_1, key) ;
  buffer_put(buffer_1, fmt, pid_fmt(fmt, pid)) ;
}

 /* The process is named name: /proc/pid/comm */
static int isnamed (pid_t pid, char const *name)
{
  char path[6 + PID_FMT + 5] ;
  char buf[64] ;
  size_t len = 6 ;
  ssize_t r ;
  memcpy(path, "/proc/", 6) ;
  len += pid_fmt(path + len, pid) ;
  memcpy(path + len, "/comm", 6) ;
  r = openreadnclose(path, buf, sizeof(buf) - 1) ;
  if (r <= 0) return 0 ;
  if (buf[r-1] == '\n') r-- ;
  buf[r] = 0 ;
  return !strcmp(buf, name) ;
}

static s6_dtally_t tally[S6_MAX_DEATH_TALLY] ;

int main (int argc, char const *const *argv)
{
  s6_svstatus_t st = S6_SVSTATUS_ZERO ;
  unsigned int t = 30000 ;
  tain deadline, before, seen, d ;
  pid_t pid ;
  ssize_t n ;
  PROG = "hp-bench-restart" ;
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
  if (argc != 2) dieusage() ;

  if (!s6_svstatus_read(argv[0], &st)) strerr_diefu2sys(111, "read the status of ", argv[0]) ;
  pid = st.pid ;
  if (pid <= 1 || !st.flagready || st.flagfinishing) strerr_dief2x(111, argv[0], " is not up and ready") ;
  if (!isnamed(pid, argv[1])) strerr_dief3x(111, "the process of ", argv[0], " is not the one named") ;

  tain_now_set_stopwatch_g() ;
  tain_now_g() ;
  before = STAMP ;
  tain_from_millisecs(&d, t) ;
  tain_add_g(&deadline, &d) ;
  if (kill(pid, SIGKILL) < 0) strerr_diefu1sys(111, "kill") ;
  for (;;)
  {
    struct timespec ts = { .tv_sec = 0, .tv_nsec = 1000000 } ;
    s6_svstatus_t now = S6_SVSTATUS_ZERO ;
    tain_now_g() ;
    if (s6_svstatus_read(argv[0], &now) && now.pid > 0 && now.pid != pid && now.flagready)
    {
      seen = STAMP ;
      st = now ;
      break ;
    }
    if (!tain_less(&STAMP, &deadline)) strerr_dief2x(99, argv[0], " was not up and ready again in time") ;
    nanosleep(&ts, 0) ;
  }

  n = s6_dtally_read(argv[0], tally, S6_MAX_DEATH_TALLY) ;
  if (n <= 0) strerr_diefu2sys(111, "read the death tally of ", argv[0]) ;
  if (tally[n-1].sig != SIGKILL) strerr_dief3x(111, "the last death in the tally of ", argv[0], " is not by SIGKILL") ;

  putpid("restart pid=", pid) ;
  putpid(" newpid=", st.pid) ;
  putms(" death_to_spawn_ms=", ms_between(&tally[n-1].stamp, &st.stamp)) ;
  putms(" spawn_to_ready_ms=", ms_between(&st.stamp, &st.readystamp)) ;
  putms(" death_to_ready_ms=", ms_between(&tally[n-1].stamp, &st.readystamp)) ;
  putms(" observed_ms=", ms_between(&before, &seen)) ;
  if (!buffer_putflush(buffer_1, "\n", 1)) strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
