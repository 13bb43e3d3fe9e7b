/* ISC license. */

/* hp-nomem.so: an LD_PRELOAD shim that makes one program's allocations
   fail, with ENOMEM, while a file says so: a test starves a live daemon
   of memory when it chooses, and feeds it again.
     HP_NOMEM_PROG  the program to starve, by its name
                    (program_invocation_short_name): "holdingpend"
     HP_NOMEM_FILE  while this file exists, the program's malloc, calloc,
                    realloc and reallocarray fail: every one if the file
                    is empty or says 0, one in N if it says N, only the
                    Nth since the file was written if it says +N
   The other processes that inherit the variables (the chain of execs
   before the daemon, its helpers) allocate as usual, and so does the
   program while the file is absent. The file is looked at on every
   allocation: a test program's cost, not a product's.
   What is not made to fail goes to the next definition (dlsym
   RTLD_NEXT): libc's, or the sanitizer runtime's in a sanitized build,
   where the runtime is not first in line: run it with
   ASAN_OPTIONS=verify_asan_link_order=0. While dlsym itself allocates,
   a small static arena serves it. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

typedef void *malloc_f (size_t) ;
typedef void *calloc_f (size_t, size_t) ;
typedef void *realloc_f (void *, size_t) ;
typedef void free_f (void *) ;

static malloc_f *next_malloc ;
static calloc_f *next_calloc ;
static realloc_f *next_realloc ;
static free_f *next_free ;

static union { char c[16384] ; long double ld ; void *p ; long long ll ; } arena_u ;
#define arena arena_u.c
static size_t arenalen ;
static int resolving ;
static int starved = -1 ;   /* is this the program to starve? -1: not known yet */
extern char **environ ;
static unsigned long calls ;   /* allocations since the file was written */
static struct stat seen ;

static void *arena_get (size_t n)
{
  void *p ;
  n = (n + 15) & ~(size_t)15 ;
  if (n > sizeof(arena) - arenalen) return 0 ;
  p = arena + arenalen ;
  arenalen += n ;
  return p ;
}

static int in_arena (void const *p)
{
  return (char const *)p >= arena && (char const *)p < arena + sizeof(arena) ;
}

static void resolve (void)
{
  if (next_free || resolving) return ;
  resolving = 1 ;
  next_malloc = (malloc_f *)dlsym(RTLD_NEXT, "malloc") ;
  next_calloc = (calloc_f *)dlsym(RTLD_NEXT, "calloc") ;
  next_realloc = (realloc_f *)dlsym(RTLD_NEXT, "realloc") ;
  next_free = (free_f *)dlsym(RTLD_NEXT, "free") ;
  resolving = 0 ;
}

 /* 1 if this allocation must fail. errno is left as it was otherwise. */
static int fail_now (void)
{
  char const *file ;
  char buf[24] ;
  unsigned long n = 0 ;
  ssize_t r, i = 0 ;
  int fd, once, e = errno ;
  if (starved < 0)
  {
    char const *prog ;
     /* allocations before libc has set these up (a sanitizer's runtime makes some) are never failed, and decide nothing */
    if (!environ || !program_invocation_short_name || !*program_invocation_short_name) return 0 ;
    prog = getenv("HP_NOMEM_PROG") ;
    starved = prog && !strcmp(prog, program_invocation_short_name) ;
  }
  if (!starved) return 0 ;
  file = getenv("HP_NOMEM_FILE") ;
  if (!file) return 0 ;
  fd = open(file, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) { errno = e ; return 0 ; }
  {
    struct stat st ;
    if (!fstat(fd, &st) && (st.st_ino != seen.st_ino || st.st_mtim.tv_sec != seen.st_mtim.tv_sec || st.st_mtim.tv_nsec != seen.st_mtim.tv_nsec))
    {
      seen = st ;
      calls = 0 ;
    }
  }
  r = read(fd, buf, sizeof(buf) - 1) ;
  close(fd) ;
  errno = e ;
  calls++ ;
  once = r > 0 && buf[0] == '+' ;
  for (i = once ; i < r && buf[i] >= '0' && buf[i] <= '9' ; i++) n = n * 10 + (unsigned long)(buf[i] - '0') ;
  if (once ? calls != n : n > 1 && calls % n) return 0 ;
  errno = ENOMEM ;
  return 1 ;
}

void *malloc (size_t n)
{
  resolve() ;
  if (!next_malloc) return arena_get(n) ;
  if (fail_now()) return 0 ;
  return (*next_malloc)(n) ;
}

void *calloc (size_t n, size_t m)
{
  resolve() ;
  if (!next_calloc)
  {
     /* the arena is zero, and never given twice */
    if (m && n > SIZE_MAX / m) return (errno = ENOMEM, (void *)0) ;
    return arena_get(n * m) ;
  }
  if (fail_now()) return 0 ;
  return (*next_calloc)(n, m) ;
}

void *realloc (void *p, size_t n)
{
  resolve() ;
  if (p && in_arena(p))
  {
    void *q = malloc(n) ;
    if (q) memcpy(q, p, (size_t)(arena + sizeof(arena) - (char *)p) < n ? (size_t)(arena + sizeof(arena) - (char *)p) : n) ;
    return q ;
  }
  if (!next_realloc) return arena_get(n) ;
   /* realloc(p, 0) frees: that never fails */
  if (n && fail_now()) return 0 ;
  return (*next_realloc)(p, n) ;
}

void *reallocarray (void *p, size_t n, size_t m)
{
  if (m && n > SIZE_MAX / m) return (errno = ENOMEM, (void *)0) ;
  return realloc(p, n * m) ;
}

void free (void *p)
{
  if (!p || in_arena(p)) return ;
  resolve() ;
  if (next_free) (*next_free)(p) ;
}
