/* ISC license. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>
#include <skalibs/tai.h>

#include <holdingpen/holdingpen.h>

#define USAGE "hp-bench [ -n iterations ] socket pool"
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   What a user waits for: from "I want N bytes" to "every page of them is
   writable in my address space". Measured for a holdingpen claim (connect,
   claim, map, touch) against the baseline of allocating the same size
   directly (anonymous mmap, touch), both with MAP_POPULATE, in the same run, median of n each,
   so that a shared, noisy machine shows a ratio rather than a number.
 */

typedef struct sample_s sample, *sample_ref ;
struct sample_s
{
  double ms ;
  long minflt ;
  long majflt ;
} ;

static double now_ms (void)
{
  struct timespec ts ;
  clock_gettime(CLOCK_MONOTONIC, &ts) ;
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6 ;
}

static void faults (long *minflt, long *majflt)
{
  struct rusage ru ;
  getrusage(RUSAGE_SELF, &ru) ;
  *minflt = ru.ru_minflt ;
  *majflt = ru.ru_majflt ;
}

static void touch (char *p, uint64_t size, long pagesize)
{
  for (uint64_t i = 0 ; i < size ; i += (uint64_t)pagesize) p[i] = 1 ;
}

static sample baseline (uint64_t size, long pagesize)
{
  sample r ;
  long mn0, mj0, mn1, mj1 ;
  double t0 ;
  char *p ;
  faults(&mn0, &mj0) ;
  t0 = now_ms() ;
  p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0) ;
  if (p == MAP_FAILED) strerr_diefu1sys(111, "mmap") ;
  touch(p, size, pagesize) ;
  r.ms = now_ms() - t0 ;
  faults(&mn1, &mj1) ;
  r.minflt = mn1 - mn0 ; r.majflt = mj1 - mj0 ;
  munmap(p, size) ;
  return r ;
}

static sample claimed (char const *path, char const *pool, uint64_t *size, long pagesize)
{
  holdingpen a = HOLDINGPEN_ZERO ;
  holdingpen_lease lease = HOLDINGPEN_LEASE_ZERO ;
  sample r ;
  long mn0, mj0, mn1, mj1 ;
  double t0 ;
  tain deadline ;
  char *p ;
  int code ;
  faults(&mn0, &mj0) ;
  t0 = now_ms() ;
  tain_addsec_g(&deadline, 30) ;
  if (!holdingpen_start_g(&a, path, &deadline)) strerr_diefu2sys(111, "connect to ", path) ;
  code = holdingpen_claim_g(&a, &lease, pool, 30000, 0, &deadline) ;
  if (code < 0) strerr_diefu1sys(111, "claim") ;
  if (code) strerr_dief2x(code, "claim refused: ", holdingpen_code_str(code)) ;
  p = holdingpen_map(&lease, PROT_READ | PROT_WRITE) ;
  if (!p) strerr_diefu1sys(111, "map the claimed fd") ;
  touch(p, lease.size, pagesize) ;
  r.ms = now_ms() - t0 ;
  faults(&mn1, &mj1) ;
  r.minflt = mn1 - mn0 ; r.majflt = mj1 - mj0 ;
  *size = lease.size ;
  holdingpen_unmap(&lease, p) ;
  fd_close(lease.fd) ;
  holdingpen_end(&a) ;
  return r ;
}

static int cmp (void const *a, void const *b)
{
  double x = ((sample const *)a)->ms, y = ((sample const *)b)->ms ;
  return x < y ? -1 : x > y ;
}

static void put (char const *s)
{
  buffer_puts(buffer_1, s) ;
}

static void putd (double d, unsigned int decimals)
{
  char fmt[UINT64_FMT] ;
  uint64_t scale = 1 ;
  for (unsigned int i = 0 ; i < decimals ; i++) scale *= 10 ;
  uint64_t v = (uint64_t)(d * (double)scale + 0.5) ;
  buffer_put(buffer_1, fmt, uint64_fmt(fmt, v / scale)) ;
  if (decimals)
  {
    char frac[UINT64_FMT] ;
    size_t len = uint64_fmt(frac, v % scale) ;
    buffer_put(buffer_1, ".", 1) ;
    for (size_t i = len ; i < decimals ; i++) buffer_put(buffer_1, "0", 1) ;
    buffer_put(buffer_1, frac, len) ;
  }
}

static void putl (long l)
{
  char fmt[UINT64_FMT] ;
  buffer_put(buffer_1, fmt, uint64_fmt(fmt, (uint64_t)(l < 0 ? 0 : l))) ;
}

int main (int argc, char const *const *argv)
{
  unsigned int n = 21 ;
  long pagesize = sysconf(_SC_PAGESIZE) ;
  uint64_t size = 0 ;
  PROG = "hp-bench" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "n:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'n' : if (!uint0_scan(l.arg, &n) || !n) dieusage() ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (argc < 2) dieusage() ;
  tain_now_set_stopwatch_g() ;
  {
    sample h[n], b[n] ;
     /* interleaved, so that a burst of load elsewhere hits both alike */
    for (unsigned int i = 0 ; i < n ; i++)
    {
      h[i] = claimed(argv[0], argv[1], &size, pagesize) ;
      b[i] = baseline(size, pagesize) ;
    }
    qsort(h, n, sizeof(sample), &cmp) ;
    qsort(b, n, sizeof(sample), &cmp) ;
    put("bench: get-writable-memory size=") ; putl((long)(size >> 20)) ; put("MiB runs=") ; putl(n) ; put("\n") ;
    put("  holdingpen claim+map+touch: median ") ; putd(h[n/2].ms, 3) ; put(" ms, minor faults ") ; putl(h[n/2].minflt) ; put(", major faults ") ; putl(h[n/2].majflt) ; put("\n") ;
    put("  baseline   mmap+touch:      median ") ; putd(b[n/2].ms, 3) ; put(" ms, minor faults ") ; putl(b[n/2].minflt) ; put(", major faults ") ; putl(b[n/2].majflt) ; put("\n") ;
    put("  ratio baseline/holdingpen: ") ; putd(b[n/2].ms / h[n/2].ms, 2) ; put(" (above 1: the reserved slot is faster to get than fresh memory)\n") ;
  }
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  return 0 ;
}
