/* ISC license. */

#include <string.h>

#include <skalibs/types.h>
#include <skalibs/djbunix.h>

#include "hppool.h"

 /*
   Whether want more bytes can be charged to the memory cgroup this
   process runs in without reaching the limit of that cgroup or of one
   of its ancestors, keeping HP_MARGIN of each limit free: a charge over
   the limit does not fail, it calls in the cgroup's OOM killer.
   cgroup v2 (memory.max, memory.current) and v1 (memory.limit_in_bytes,
   memory.usage_in_bytes), both if the machine has both; the inactive
   page cache counts as room, since the kernel reclaims it first.
   1: fits (or no limit found); 0: does not.
 */

static int readnum (char const *dir, size_t dlen, char const *file, uint64_t *n)
{
  size_t flen = strlen(file) ;
  char path[dlen + flen + 2] ;
  char buf[32] ;
  ssize_t r ;
  memcpy(path, dir, dlen) ;
  path[dlen] = '/' ;
  memcpy(path + dlen + 1, file, flen + 1) ;
  r = openreadnclose(path, buf, sizeof(buf) - 1) ;
  if (r <= 0) return 0 ;
  buf[r] = 0 ;
  return !!uint64_scan(buf, n) ;  /* "max" does not scan: no limit */
}

typedef struct stat_s stat_t ;
struct stat_s
{
  char const *key ;
  size_t klen ;
  uint64_t n ;
} ;

static int stat_line (char *s, size_t len, int cut, void *data)
{
  stat_t *st = data ;
  (void)cut ;
  if (len <= st->klen || memcmp(s, st->key, st->klen) || s[st->klen] != ' ') return 1 ;
  uint64_scan(s + st->klen + 1, &st->n) ;
  return 0 ;
}

static uint64_t inactive_file (char const *dir, size_t dlen, char const *key)
{
  char path[dlen + 13] ;
  stat_t st = { .key = key, .klen = strlen(key), .n = 0 } ;
  memcpy(path, dir, dlen) ;
  memcpy(path + dlen, "/memory.stat", 13) ;
  hp_lines(path, &stat_line, &st) ;
  return st.n ;
}

 /* Checks one cgroup directory and each of its ancestors up to the mount point. */
static int fits_here (char const *mnt, char const *cg, int v2, uint64_t want)
{
  size_t mlen = strlen(mnt), clen = strlen(cg) ;
  char dir[mlen + clen + 1] ;
  size_t len ;
  memcpy(dir, mnt, mlen) ;
  memcpy(dir + mlen, cg, clen + 1) ;
  len = mlen + clen ;
  while (len > mlen && dir[len-1] == '/') len-- ;
  for (;;)
  {
    uint64_t limit, usage ;
    dir[len] = 0 ;
    if (readnum(dir, len, v2 ? "memory.max" : "memory.limit_in_bytes", &limit)
     && readnum(dir, len, v2 ? "memory.current" : "memory.usage_in_bytes", &usage))
    {
      uint64_t margin = limit >> HP_MARGIN_SHIFT ;
      uint64_t room = limit + inactive_file(dir, len, v2 ? "inactive_file" : "total_inactive_file") ;
      if (margin < HP_MARGIN_CGROUP_MIN) margin = HP_MARGIN_CGROUP_MIN ;
      if (room < usage || room - usage < want || room - usage - want < margin) return 0 ;
    }
    if (len <= mlen) return 1 ;
    while (len > mlen && dir[len-1] != '/') len-- ;
    if (len > mlen) len-- ;
  }
}

 /*
   The memory cgroups of this process: the v1 one with the memory
   controller ([0]) and the v2 one ([1]), each with the mount point of
   its hierarchy. A path or a mount point too long for its buffer is
   not checked, as one not found.
 */

#define MNT_MAX 256

typedef struct cg_s cg, *cg_ref ;
struct cg_s
{
  char path[HP_LINE_MAX] ;
  char mnt[MNT_MAX] ;
} ;

static int has_memory (char const *s, char const *end)
{
  while (s < end)
  {
    char const *e = s ;
    while (e < end && *e != ',') e++ ;
    if (e - s == 6 && !memcmp(s, "memory", 6)) return 1 ;
    s = e + 1 ;
  }
  return 0 ;
}

 /* lines "id:controllers:path"; v2 is "0::path" */
static int cgroup_line (char *s, size_t len, int cut, void *data)
{
  cg *cgs = data ;
  char *c1 = memchr(s, ':', len), *c2 ;
  int v2 ;
  if (cut || !c1) return 1 ;
  c2 = memchr(c1 + 1, ':', len - (c1 + 1 - s)) ;
  if (!c2) return 1 ;
  v2 = c2 == c1 + 1 ;
  if (!v2 && !has_memory(c1 + 1, c2)) return 1 ;
  memcpy(cgs[v2].path, c2 + 1, len - (c2 - s)) ;
  return 1 ;
}

 /* lines "device mountpoint type options ...": the first cgroup2, and the first v1 cgroup with memory */
static int mount_line (char *s, size_t len, int cut, void *data)
{
  cg *cgs = data ;
  char const *f[4] ;
  size_t l[4] ;
  char const *q = s ;
  unsigned int i = 0 ;
  int v2 ;
  (void)len ; (void)cut ;
  for (; i < 4 ; i++)
  {
    f[i] = q ;
    while (*q && *q != ' ') q++ ;
    l[i] = q - f[i] ;
    if (*q != ' ') break ;
    q++ ;
  }
  if (i < 3) return 1 ;
  if (l[2] == 7 && !memcmp(f[2], "cgroup2", 7)) v2 = 1 ;
  else if (l[2] == 6 && !memcmp(f[2], "cgroup", 6) && has_memory(f[3], f[3] + l[3])) v2 = 0 ;
  else return 1 ;
  if (cgs[v2].mnt[0] || l[1] >= MNT_MAX) return 1 ;
  memcpy(cgs[v2].mnt, f[1], l[1]) ;
  cgs[v2].mnt[l[1]] = 0 ;
  return !cgs[!v2].mnt[0] ;
}

int hp_memcg_fits (uint64_t want)
{
  cg cgs[2] ;
  cgs[0].path[0] = cgs[1].path[0] = cgs[0].mnt[0] = cgs[1].mnt[0] = 0 ;
  if (!hp_lines("/proc/self/cgroup", &cgroup_line, cgs) || (!cgs[0].path[0] && !cgs[1].path[0])) return 1 ;
  if (!hp_lines("/proc/self/mounts", &mount_line, cgs)) return 1 ;
  for (unsigned int v2 = 0 ; v2 < 2 ; v2++)
    if (cgs[v2].path[0] && cgs[v2].mnt[0] && !fits_here(cgs[v2].mnt, cgs[v2].path, v2, want)) return 0 ;
  return 1 ;
}
