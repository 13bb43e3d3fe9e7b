/* ISC license. */

/* Shared by the test probes: each probe is one .c file that includes this.
   Only static inline functions here, so that a probe that does not use one
   of them still compiles without warnings. */

#ifndef HP_PROBE_H
#define HP_PROBE_H

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What the probes write: recognisable in a dump, never all zeros. */
#define HP_PROBE_PATTERN "holdingpen-probe-pattern:"

static inline void hp_die (int code, char const *prog, char const *what)
{
  int e = errno ;
  fprintf(stderr, "%s: fatal: %s%s%s\n", prog, what, e ? ": " : "", e ? strerror(e) : "") ;
  exit(code) ;
}

static inline void hp_dieusage (char const *prog, char const *usage)
{
  fprintf(stderr, "%s: usage: %s\n", prog, usage) ;
  exit(100) ;
}

/* Parses a whole decimal string; 0 on error. */
static inline int hp_scan_ull (char const *s, unsigned long long *u)
{
  char *end ;
  if (!s || !*s || *s < '0' || *s > '9') return 0 ;
  errno = 0 ;
  *u = strtoull(s, &end, 10) ;
  return !*end && !errno ;
}

/* The value of a decimal environment variable; dies 111 if absent or bad:
   the probes run under holdingpen-claim, which must always set them. */
static inline unsigned long long hp_env_ull (char const *prog, char const *name)
{
  unsigned long long u ;
  char const *s = getenv(name) ;
  if (!s) { errno = 0 ; fprintf(stderr, "%s: fatal: %s is not set\n", prog, name) ; exit(111) ; }
  if (!hp_scan_ull(s, &u)) { fprintf(stderr, "%s: fatal: %s is not a decimal number: %s\n", prog, name, s) ; exit(111) ; }
  return u ;
}

static inline int hp_env_fd (char const *prog, char const *name)
{
  unsigned long long u = hp_env_ull(prog, name) ;
  if (u > 1000000) { fprintf(stderr, "%s: fatal: %s is not an fd number\n", prog, name) ; exit(111) ; }
  return (int)u ;
}

/* Milliseconds on the monotonic clock, and a sleep that EINTR does not cut short. */
static inline long long hp_now_ms (void)
{
  struct timespec ts ;
  clock_gettime(CLOCK_MONOTONIC, &ts) ;
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 ;
}

static inline void hp_sleep_ms (unsigned long long ms)
{
  struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L } ;
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) ;
}

static inline size_t hp_pagesize (void)
{
  long p = sysconf(_SC_PAGESIZE) ;
  return p > 0 ? (size_t)p : 4096 ;
}

/* The size the fd really has; the probes trust this rather than the env. */
static inline size_t hp_fdsize (char const *prog, int fd)
{
  struct stat st ;
  if (fstat(fd, &st) < 0) hp_die(111, prog, "fstat resource fd") ;
  return (size_t)st.st_size ;
}

static inline unsigned char *hp_map (char const *prog, int fd, size_t len, int prot)
{
  void *p ;
  if (!len) { errno = 0 ; hp_die(111, prog, "resource has size 0") ; }
  p = mmap(0, len, prot, MAP_SHARED, fd, 0) ;
  if (p == MAP_FAILED) hp_die(111, prog, "mmap resource fd") ;
  return p ;
}

/* Number of pages of [p, p+len) in memory, without touching them. */
static inline size_t hp_resident (char const *prog, void *p, size_t len)
{
  size_t page = hp_pagesize() ;
  size_t n = (len + page - 1) / page ;
  size_t r = 0 ;
  unsigned char *vec = malloc(n ? n : 1) ;
  if (!vec) hp_die(111, prog, "malloc") ;
  if (mincore(p, len, vec) < 0) hp_die(111, prog, "mincore") ;
  for (size_t i = 0 ; i < n ; i++) if (vec[i] & 1) r++ ;
  free(vec) ;
  return r ;
}

static inline void hp_fill (unsigned char *p, size_t len)
{
  static char const pat[] = HP_PROBE_PATTERN ;
  size_t k = sizeof(pat) - 1 ;
  for (size_t i = 0 ; i < len ; i++) p[i] = (unsigned char)pat[i % k] ;
}

/* Counts the non-zero bytes of the fd with pread, which does not allocate
   pages in a hole of a memfd (a read through a mapping might). */
static inline size_t hp_count_nonzero_fd (char const *prog, int fd, size_t len, long long *first)
{
  static unsigned char buf[65536] ;
  size_t n = 0 ;
  off_t off = 0 ;
  *first = -1 ;
  while ((size_t)off < len)
  {
    size_t want = len - (size_t)off < sizeof(buf) ? len - (size_t)off : sizeof(buf) ;
    ssize_t r = pread(fd, buf, want, off) ;
    if (r < 0) { if (errno == EINTR) continue ; hp_die(111, prog, "pread resource fd") ; }
    if (!r) break ;
    for (ssize_t i = 0 ; i < r ; i++) if (buf[i])
    {
      if (*first < 0) *first = (long long)off + i ;
      n++ ;
    }
    off += r ;
  }
  return n ;
}

#endif
