/* ISC license. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/djbunix.h>
#include <skalibs/tai.h>
#include <skalibs/unixmessage.h>
#include <skalibs/unixconnection.h>

#include <holdingpen/holdingpen.h>

#define USAGE "hp-bench-claim [ -n claims ] [ -w warmup ] [ -s pause ] [ -l leases,leases,... ] [ -m pid ] [ -r rawsocket ] label socket pool [ label socket pool ... ]"
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   The cost of one claim as a program using libholdingpen sees it: from
   the connect to the resource fd in hand. For every target (a daemon's
   socket and one of its pools), n claims, each of a ready slot: the claim
   says "do not wait" (-n), a busy answer (every slot scrubbing) is
   retried after a short sleep and not timed. The lease is closed at once
   and the bench sleeps pause microseconds, plus twice the claim's own
   time, before the next claim, so that the daemon's work on the release
   is over: what is timed is a claim in a quiet daemon. The targets are
   interleaved, one claim each per round, so that a burst of load
   elsewhere on the machine hits them alike.

   -r adds the baseline target "raw": the same connect, a one-byte
   request, and an answer with an fd, to hp-bench-rawd.

   -l: phases. Before the claims of a phase, the bench holds that many
   live leases of the first target (their connections stay open, the
   resource fds are closed), and the claims of the phase take further
   slots of that pool. -m: after each phase, the private memory of that
   pid (holdingpend's), from /proc/pid/smaps_rollup.

   Output, one line per target per phase, and one per phase with -m:
     claim target=label leases=L claims=n busy=b min_us=... p10_us=... p50_us=... p90_us=... p99_us=... max_us=...
     memory pid=P leases=L private_kb=K
 */

#define LEVELS_MAX 16

typedef struct target_s target, *target_ref ;
struct target_s
{
  char const *label ;
  char const *path ;
  char const *pool ;   /* 0: the raw baseline */
  double *us ;
  unsigned int busy ;
} ;

static double now_us (void)
{
  struct timespec ts ;
  clock_gettime(CLOCK_MONOTONIC, &ts) ;
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3 ;
}

static void sleep_us (double us)
{
  struct timespec ts ;
  if (us <= 0) return ;
  ts.tv_sec = (time_t)(us / 1e6) ;
  ts.tv_nsec = (long)((us - (double)ts.tv_sec * 1e6) * 1e3) ;
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) ;
}

 /* Starts the clock, then connects: a claim's time counts from before the connect. */
static double connect_timed (target const *t, holdingpen *a, tain *deadline)
{
  double t0 ;
  tain_now_g() ;
  tain_addsec_g(deadline, 10) ;
  t0 = now_us() ;
  if (!holdingpen_start_g(a, t->path, deadline)) strerr_diefu2sys(111, "connect to ", t->path) ;
  return t0 ;
}

 /*
   One claim: 1 and the connection in *a if granted (the resource fd is
   closed), 0 if busy (nothing left open). *us: connect to fd in hand.
 */

static int claim_raw (target const *t, holdingpen *a, double *us)
{
  static char req = HOLDINGPEN_OP_CLAIM ;
  unixmessage m = { .s = &req, .len = 1, .fds = 0, .nfds = 0 } ;
  unixmessage ans ;
  tain deadline ;
  double t0 ;
  int r ;
  t0 = connect_timed(t, a, &deadline) ;
  if (!unixmessage_put(&a->connection.out, &m)
   || !unixmessage_sender_timed_flush_g(&a->connection.out, &deadline))
    strerr_diefu2sys(111, "send a request to ", t->path) ;
  r = unixmessage_timed_receive_g(&a->connection.in, &ans, &deadline) ;
  *us = now_us() - t0 ;
  if (r < 0) strerr_diefu2sys(111, "read an answer from ", t->path) ;
  if (!r) strerr_dief2x(99, "no answer in time from ", t->path) ;
  if (ans.nfds != 1 || !ans.len || ans.s[0]) strerr_dief2x(111, "unexpected answer from ", t->path) ;
  fd_close(ans.fds[0]) ;
  return 1 ;
}

static int claim_hp (target const *t, holdingpen *a, double *us)
{
  holdingpen_lease lease = HOLDINGPEN_LEASE_ZERO ;
  tain deadline ;
  double t0 ;
  int r ;
  t0 = connect_timed(t, a, &deadline) ;
  r = holdingpen_claim_g(a, &lease, t->pool, 0, HOLDINGPEN_CLAIM_NOWAIT, &deadline) ;
  *us = now_us() - t0 ;
  if (r < 0) strerr_diefu4sys(111, "claim from ", t->path, " pool ", t->pool) ;
  if (r == HOLDINGPEN_BUSY)
  {
    holdingpen_end(a) ;
    return 0 ;
  }
  if (r) strerr_dief6x(r, "claim from ", t->path, " pool ", t->pool, " refused: ", holdingpen_code_str(r)) ;
  if (lease.fd >= 0) fd_close(lease.fd) ;
  return 1 ;
}

static int claim (target const *t, holdingpen *a, double *us)
{
  return t->pool ? claim_hp(t, a, us) : claim_raw(t, a, us) ;
}

 /* one timed claim of a ready slot, the lease closed, the daemon left to settle */
static double measure (target *t, double pause)
{
  for (;;)
  {
    holdingpen a = HOLDINGPEN_ZERO ;
    double us ;
    if (claim(t, &a, &us))
    {
      holdingpen_end(&a) ;
      sleep_us(pause + 2 * us) ;
      return us ;
    }
    t->busy++ ;
    sleep_us(1000) ;
  }
}

 /* Leases held by the bench: their connection fds. */

static int *held = 0 ;
static unsigned int nheld = 0 ;

static void hold (target *t, unsigned int n)
{
  unsigned int tries = 0 ;
  while (nheld > n) fd_close(held[--nheld]) ;
  while (nheld < n)
  {
    holdingpen a = HOLDINGPEN_ZERO ;
    double us ;
    if (claim(t, &a, &us))
    {
      held[nheld++] = holdingpen_fd(&a) ;
      unixconnection_free(&a.connection) ;
      tries = 0 ;
    }
    else
    {
      if (++tries > 3000) strerr_dief2x(99, "no slot left to hold in pool ", t->pool) ;
      sleep_us(10000) ;
    }
  }
}

static uint64_t private_kb (char const *pid)
{
  stralloc sa = STRALLOC_ZERO ;
  uint64_t total = 0 ;
  size_t len = strlen(pid) ;
  char path[6 + len + 14] ;
  memcpy(path, "/proc/", 6) ;
  memcpy(path + 6, pid, len) ;
  memcpy(path + 6 + len, "/smaps_rollup", 14) ;
  if (!openslurpclose(&sa, path) || !stralloc_0(&sa)) strerr_diefu2sys(111, "read ", path) ;
  for (char *s = sa.s ; s && *s ; s = strchr(s, '\n'), s = s ? s + 1 : 0)
  {
    if (!strncmp(s, "Private_Clean:", 14) || !strncmp(s, "Private_Dirty:", 14))
    {
      uint64_t kb ;
      char *p = s + 14 ;
      while (*p == ' ' || *p == '\t') p++ ;
      if (uint64_scan(p, &kb)) total += kb ;
    }
  }
  stralloc_free(&sa) ;
  return total ;
}

static int cmp (void const *a, void const *b)
{
  double x = *(double const *)a, y = *(double const *)b ;
  return x < y ? -1 : x > y ;
}

static void put (char const *s)
{
  buffer_puts(buffer_1, s) ;
}

static void putu (uint64_t u)
{
  char fmt[UINT64_FMT] ;
  buffer_put(buffer_1, fmt, uint64_fmt(fmt, u)) ;
}

static void putd (double d)
{
  uint64_t v = (uint64_t)(d * 10.0 + 0.5) ;
  putu(v / 10) ;
  buffer_put(buffer_1, ".", 1) ;
  putu(v % 10) ;
}

 /* nearest rank */
static double pct (double const *a, unsigned int n, unsigned int q)
{
  unsigned int i = (q * n + 99) / 100 ;
  return a[i ? i - 1 : 0] ;
}

static void report (target *t, unsigned int n, unsigned int leases)
{
  static unsigned int const qs[4] = { 10, 50, 90, 99 } ;
  qsort(t->us, n, sizeof(double), &cmp) ;
  put("claim target=") ; put(t->label) ;
  put(" leases=") ; putu(leases) ;
  put(" claims=") ; putu(n) ;
  put(" busy=") ; putu(t->busy) ;
  put(" min_us=") ; putd(t->us[0]) ;
  for (unsigned int i = 0 ; i < 4 ; i++)
  {
    put(" p") ; putu(qs[i]) ; put("_us=") ; putd(pct(t->us, n, qs[i])) ;
  }
  put(" max_us=") ; putd(t->us[n-1]) ;
  put("\n") ;
}

static unsigned int levels_scan (char const *s, unsigned int *levels)
{
  unsigned int n = 0 ;
  for (;;)
  {
    size_t len ;
    if (n >= LEVELS_MAX) dieusage() ;
    len = uint_scan(s, levels + n) ;
    if (!len) dieusage() ;
    n++ ; s += len ;
    if (!*s) return n ;
    if (*s++ != ',') dieusage() ;
  }
}

int main (int argc, char const *const *argv)
{
  unsigned int n = 1000, warmup = 50, pause = 500 ;
  unsigned int levels[LEVELS_MAX] = { 0 } ;
  unsigned int nlevels = 1, maxlevel = 0 ;
  char const *mempid = 0 ;
  char const *raw = 0 ;
  unsigned int nt ;
  PROG = "hp-bench-claim" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "n:w:s:l:m:r:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'n' : if (!uint0_scan(l.arg, &n) || !n) dieusage() ; break ;
        case 'w' : if (!uint0_scan(l.arg, &warmup)) dieusage() ; break ;
        case 's' : if (!uint0_scan(l.arg, &pause)) dieusage() ; break ;
        case 'l' : nlevels = levels_scan(l.arg, levels) ; break ;
        case 'm' : { pid_t pid ; if (!pid0_scan(l.arg, &pid) || pid <= 0) dieusage() ; mempid = l.arg ; break ; }
        case 'r' : raw = l.arg ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (argc % 3 || (!argc && !raw)) dieusage() ;
  nt = argc / 3 + !!raw ;
  for (unsigned int i = 0 ; i < nlevels ; i++) if (levels[i] > maxlevel) maxlevel = levels[i] ;
  if (maxlevel && !argc) strerr_dief1x(100, "-l needs a holdingpen target to hold leases of") ;

   /* every held lease is an fd */
  {
    struct rlimit rl ;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) strerr_diefu1sys(111, "getrlimit") ;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)maxlevel + 64)
    {
      rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)maxlevel + 64 ? (rlim_t)maxlevel + 64 : rl.rlim_max ;
      if (setrlimit(RLIMIT_NOFILE, &rl) < 0) strerr_diefu1sys(111, "raise RLIMIT_NOFILE") ;
      if (rl.rlim_cur < (rlim_t)maxlevel + 64) strerr_dief1x(111, "the hard limit on open files is too low for the leases asked: raise ulimit -n") ;
    }
  }
  if (maxlevel)
  {
    held = calloc(maxlevel, sizeof(int)) ;
    if (!held) strerr_diefu1sys(111, "allocate") ;
  }

  tain_now_set_stopwatch_g() ;
  {
    target t[nt] ;
    double *samples = calloc((size_t)nt * n, sizeof(double)) ;
    if (!samples) strerr_diefu1sys(111, "allocate") ;
    for (unsigned int i = 0 ; i < (unsigned int)argc / 3 ; i++)
    {
      t[i].label = argv[3*i] ;
      t[i].path = argv[3*i+1] ;
      t[i].pool = argv[3*i+2] ;
    }
    if (raw)
    {
      t[nt-1].label = "raw" ;
      t[nt-1].path = raw ;
      t[nt-1].pool = 0 ;
    }
    for (unsigned int i = 0 ; i < nt ; i++) t[i].us = samples + (size_t)i * n ;

    for (unsigned int lv = 0 ; lv < nlevels ; lv++)
    {
      hold(t, levels[lv]) ;
      for (unsigned int i = 0 ; i < nt ; i++)
      {
        t[i].busy = 0 ;
        for (unsigned int j = 0 ; j < warmup ; j++) measure(t + i, pause) ;
      }
       /* round k starts with target k mod nt: no target is always first */
      for (unsigned int k = 0 ; k < n ; k++)
        for (unsigned int j = 0 ; j < nt ; j++)
        {
          target *x = t + (k + j) % nt ;
          x->us[k] = measure(x, pause) ;
        }
      for (unsigned int i = 0 ; i < nt ; i++) report(t + i, n, levels[lv]) ;
      if (mempid)
      {
        put("memory pid=") ; put(mempid) ;
        put(" leases=") ; putu(levels[lv]) ;
        put(" private_kb=") ; putu(private_kb(mempid)) ;
        put("\n") ;
      }
      if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
    }
    free(samples) ;
  }
  hold(0, 0) ;
  return 0 ;
}
