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

#define BUFSIZE 4096

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

static uint64_t inactive_file (char const *dir, size_t dlen, char const *key)
{
  char path[dlen + 13] ;
  char buf[BUFSIZE] ;
  size_t klen = strlen(key) ;
  ssize_t r ;
  char *p ;
  uint64_t n = 0 ;
  memcpy(path, dir, dlen) ;
  memcpy(path + dlen, "/memory.stat", 13) ;
  r = openreadnclose(path, buf, sizeof(buf) - 1) ;
  if (r <= 0) return 0 ;
  buf[r] = 0 ;
  for (p = buf ; p ; p = strchr(p, '\n'), p = p ? p + 1 : 0)
    if (!strncmp(p, key, klen) && p[klen] == ' ') { uint64_scan(p + klen + 1, &n) ; break ; }
  return n ;
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

 /* The mount point of the cgroup hierarchy: v2, or the v1 one with the memory controller. */
static int mountpoint (char const *mounts, int v2, char *mnt, size_t max)
{
  char const *p = mounts ;
  for (; p ; p = strchr(p, '\n'), p = p ? p + 1 : 0)
  {
    char const *f[4] ;
    size_t l[4] ;
    char const *q = p ;
    unsigned int i = 0 ;
    for (; i < 4 ; i++)
    {
      f[i] = q ;
      while (*q && *q != ' ' && *q != '\n') q++ ;
      l[i] = q - f[i] ;
      if (*q != ' ') break ;
      q++ ;
    }
    if (i < 3) continue ;
    if (v2 ? (l[2] == 7 && !memcmp(f[2], "cgroup2", 7)) :
        (l[2] == 6 && !memcmp(f[2], "cgroup", 6)))
    {
      if (!v2)
      {
        int found = 0 ;
        char const *o = f[3] ;
        while (o < f[3] + l[3])
        {
          char const *e = o ;
          while (e < f[3] + l[3] && *e != ',') e++ ;
          if (e - o == 6 && !memcmp(o, "memory", 6)) found = 1 ;
          o = e + 1 ;
        }
        if (!found) continue ;
      }
      if (l[1] >= max) return 0 ;
      memcpy(mnt, f[1], l[1]) ;
      mnt[l[1]] = 0 ;
      return 1 ;
    }
  }
  return 0 ;
}

int hp_memcg_fits (uint64_t want)
{
  char cgroups[BUFSIZE] ;
  char mounts[BUFSIZE * 4] ;
  char mnt[256] ;
  ssize_t r = openreadnclose("/proc/self/cgroup", cgroups, sizeof(cgroups) - 1) ;
  ssize_t rm ;
  char *p ;
  if (r <= 0) return 1 ;
  cgroups[r] = 0 ;
  rm = openreadnclose("/proc/self/mounts", mounts, sizeof(mounts) - 1) ;
  if (rm <= 0) return 1 ;
  mounts[rm] = 0 ;
   /* lines "id:controllers:path"; v2 is "0::path" */
  for (p = cgroups ; p && *p ; p = strchr(p, '\n'), p = p ? p + 1 : 0)
  {
    char *c1 = strchr(p, ':'), *c2, *nl ;
    int v2, ismem = 0 ;
    if (!c1) break ;
    c2 = strchr(c1 + 1, ':') ;
    if (!c2) break ;
    nl = strchr(c2, '\n') ;
    v2 = c2 == c1 + 1 ;
    if (!v2)
    {
      char *o = c1 + 1 ;
      while (o < c2)
      {
        char *e = o ;
        while (e < c2 && *e != ',') e++ ;
        if (e - o == 6 && !memcmp(o, "memory", 6)) ismem = 1 ;
        o = e + 1 ;
      }
      if (!ismem) continue ;
    }
    if (!mountpoint(mounts, v2, mnt, sizeof(mnt))) continue ;
    {
      size_t plen = nl ? (size_t)(nl - c2 - 1) : strlen(c2 + 1) ;
      char path[plen + 1] ;
      memcpy(path, c2 + 1, plen) ;
      path[plen] = 0 ;
      if (!fits_here(mnt, path, v2, want)) return 0 ;
    }
  }
  return 1 ;
}
