/* ISC license. */

/* hp-probe-kind: run under holdingpen-claim. Says what kind of resource the
   lease brought, one key=value per line, for the tests of the kinds:
     kind env_size has_fd
   and, when HOLDINGPEN_FD is set:
     fd link size blocks_bytes blksize nlink dev hugetlb tmpfs memfd
   blocks_bytes is st_blocks * 512: what the filesystem really allocated.
   dev is st_dev in decimal, as "stat -c %d" prints it for a directory.
   hugetlb: the fd's filesystem is hugetlbfs (fstatfs), i.e. the pages come
   from the kernel's hugepage pool. nlink 0: the file has no name. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hp-probe.h"

#define PROG "hp-probe-kind"
#define USAGE "hp-probe-kind (under holdingpen-claim, no arguments)"

 /* from linux/magic.h, spelled out to keep the probe free of kernel headers */
#define HP_HUGETLBFS_MAGIC 0x958458f6UL
#define HP_TMPFS_MAGIC 0x01021994UL

int main (int argc, char const *const *argv)
{
  char path[64] ;
  char link[PATH_MAX] ;
  struct stat st ;
  struct statfs sf ;
  char const *kind = getenv("HOLDINGPEN_KIND") ;
  unsigned long ftype ;
  ssize_t r ;
  int fd ;
  (void)argv ;
  if (argc > 1) hp_dieusage(PROG, USAGE) ;

  printf("kind=%s\nenv_size=%llu\n", kind ? kind : "", hp_env_ull(PROG, "HOLDINGPEN_SIZE")) ;
  if (!getenv("HOLDINGPEN_FD"))
  {
    printf("has_fd=0\n") ;
    return fflush(stdout) ? 111 : 0 ;
  }
  fd = hp_env_fd(PROG, "HOLDINGPEN_FD") ;
  printf("has_fd=1\nfd=%d\n", fd) ;

  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd) ;
  r = readlink(path, link, sizeof(link) - 1) ;
  if (r < 0) hp_die(111, PROG, "readlink resource fd") ;
  link[r] = 0 ;
  printf("link=%s\n", link) ;

  if (fstat(fd, &st) < 0) hp_die(111, PROG, "fstat resource fd") ;
  printf("size=%lld\nblocks_bytes=%lld\nblksize=%ld\nnlink=%lu\ndev=%llu\n",
    (long long)st.st_size, (long long)st.st_blocks * 512, (long)st.st_blksize,
    (unsigned long)st.st_nlink, (unsigned long long)st.st_dev) ;

  if (fstatfs(fd, &sf) < 0) hp_die(111, PROG, "fstatfs resource fd") ;
  ftype = (unsigned long)sf.f_type & 0xffffffffUL ;
  printf("hugetlb=%d\ntmpfs=%d\nmemfd=%d\n",
    ftype == HP_HUGETLBFS_MAGIC, ftype == HP_TMPFS_MAGIC, !strncmp(link, "/memfd:", 7)) ;
  return fflush(stdout) ? 111 : 0 ;
}
