/* ISC license. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/iopause.h>
#include <skalibs/posixplz.h>
#include <skalibs/djbunix.h>
#include <skalibs/unixmessage.h>
#include <skalibs/unixconnection.h>

#include "hppool.h"

#define USAGE "holdingpen-helper [ -l ] [ -D dir ] [ -p pool ] kind size"
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   One process per slot. It creates the resource, sends it up to
   holdingpend, keeps its own copy while the slot is held, and when the
   lease ends empties that copy before making a fresh one: whoever kept
   an fd to the old resource then holds no memory or blocks through it.
   Its control socket is fd 1; when holdingpend goes away, so does it.
 */

typedef struct helper_s helper, *helper_ref ;
struct helper_s
{
  unixconnection conn ;
  char const *pool ;
  char const *dir ;
  uint64_t size ;
  unsigned int kind ;
  unsigned int lock : 1 ;
  int fd ;
  void *map ;
} ;
#define HELPER_ZERO { .conn = UNIXCONNECTION_ZERO, .pool = "?", .dir = 0, .size = 0, .kind = 0, .lock = 0, .fd = -1, .map = 0 }

 /* Errors that more memory or disk later may cure: retry. Others: fail for good. */
static int transient (int e)
{
  return e == ENOMEM || e == ENOSPC || e == EDQUOT || e == EAGAIN || e == EBUSY ;
}

static void send_byte (helper *h, char c, int fd)
{
  unixmessage m = { .s = &c, .len = 1, .fds = &fd, .nfds = fd >= 0 } ;
  if (!unixmessage_put(&h->conn.out, &m)
   || !unixmessage_sender_timed_flush_g(&h->conn.out, &tain_infinite))
    strerr_diefu2sys(111, "talk to holdingpend for pool ", h->pool) ;
}

static int open_file (helper *h)
{
  int fd = open(h->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) ;
  if (fd >= 0) return fd ;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return -1 ;
   /* No O_TMPFILE here: a named file, unlinked at once, leaves no name behind. */
  {
    size_t len = strlen(h->dir) ;
    char name[len + 24] ;
    memcpy(name, h->dir, len) ;
    memcpy(name + len, "/.holdingpen-XXXXXX", 20) ;
    fd = mkostemp(name, O_CLOEXEC) ;
    if (fd < 0) return -1 ;
    unlink_void(name) ;
  }
  return fd ;
}

static int open_memfd (helper *h)
{
  unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING ;
  if (h->kind == HP_KIND_HUGETLB) flags |= MFD_HUGETLB ;
  return memfd_create(h->pool, flags) ;
}

static void unmap (helper *h)
{
  if (h->map)
  {
    munmap(h->map, h->size) ;
    h->map = 0 ;
  }
}

static void drop (helper *h)
{
  unmap(h) ;
  if (h->fd >= 0)
  {
    fd_close(h->fd) ;
    h->fd = -1 ;
  }
}

 /*
   fallocate leaves shmem pages allocated but not yet cleared: the kernel
   zeroes each one at its first fault. Fault them all now, so that the
   holder's mapping finds them ready and costs only minor faults.
 */
static int prefault (helper *h)
{
  char *p = mmap(0, h->size, PROT_READ, MAP_SHARED, h->fd, 0) ;
  if (p == MAP_FAILED) return 0 ;
#ifdef MADV_POPULATE_READ
  if (madvise(p, h->size, MADV_POPULATE_READ) < 0)
#endif
  {
    size_t page = (size_t)sysconf(_SC_PAGESIZE) ;
    for (size_t i = 0 ; i < h->size ; i += page) (void)((char volatile *)p)[i] ;
  }
  munmap(p, h->size) ;
  return 1 ;
}

 /*
   Maps (fd, or anonymous memory if fd < 0) and locks the whole size.
   1: locked; 0: transient failure, errno set, everything dropped. A
   refusal by RLIMIT_MEMLOCK will not go away by waiting: fail for good.
 */
static int map_and_lock (helper *h, int prot, int flags)
{
  h->map = mmap(0, h->size, prot, flags, h->fd, 0) ;
  if (h->map == MAP_FAILED) { int e = errno ; h->map = 0 ; drop(h) ; return (errno = e, 0) ; }
  if (mlock(h->map, h->size) < 0)
  {
    int e = errno ;
    drop(h) ;
    if (e == EPERM || (e == ENOMEM && getuid()))
      strerr_dief3x(100, "pool ", h->pool, ": mlock refused: raise RLIMIT_MEMLOCK or give CAP_IPC_LOCK (run as root)") ;
    return (errno = e, 0) ;
  }
  return 1 ;
}

 /* 1: reserved; 0: transient failure, errno set; dies if it can never work. */
static int reserve (helper *h)
{
  if (h->kind == HP_KIND_BALLAST_MEM)
    return map_and_lock(h, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE) ;
  h->fd = hp_kind_isdisk(h->kind) ? open_file(h) : open_memfd(h) ;
  if (h->fd < 0)
  {
    if (transient(errno)) return 0 ;
    strerr_diefu4sys(100, "create the resource for pool ", h->pool, " in ", h->dir ? h->dir : "memory") ;
  }
  if (fallocate(h->fd, 0, 0, (off_t)h->size) < 0)
  {
    int e = errno ;
    drop(h) ;
    if (transient(e)) return (errno = e, 0) ;
    errno = e ;
    strerr_diefu2sys(100, "allocate the resource for pool ", h->pool) ;
  }
  if (h->kind == HP_KIND_BALLAST_DISK) return 1 ;
  if (!hp_kind_isdisk(h->kind)
   && fcntl(h->fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
    strerr_diefu2sys(111, "seal the memfd for pool ", h->pool) ;
   /* hugetlbfs clears its pages in fallocate; with lock, mlock faults them in */
  if (h->kind == HP_KIND_MEMFD && !h->lock && !prefault(h))
  {
    int e = errno ;
    drop(h) ;
    return (errno = e, 0) ;
  }
  return h->lock ? map_and_lock(h, PROT_READ, MAP_SHARED) : 1 ;
}

 /* The old holder may keep an fd: punch the hole so that it holds nothing. */
static void scrub (helper *h)
{
  unmap(h) ;
  if (h->fd >= 0 && h->kind != HP_KIND_BALLAST_DISK
   && fallocate(h->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)h->size) < 0)
  {
     /* no hole punching on this filesystem: a file is not sealed, truncating frees it as well */
    if (h->kind != HP_KIND_FILE || ftruncate(h->fd, 0) < 0)
      strerr_warnwu2sys("empty the old resource of pool ", h->pool) ;
  }
  drop(h) ;
}

 /* Waits for a command, 0 if none by deadline; dies quietly when holdingpend is gone. */
static char command (helper *h, tain const *deadline)
{
  unixmessage m ;
  int r = unixmessage_timed_receive_g(&h->conn.in, &m, deadline) ;
   /*
     A timed receive says "deadline passed" with -1 ETIMEDOUT (the backoff
     is over), and end of file with 0 (holdingpend is gone: so are we).
   */
  if (r < 0)
  {
    if (errno == ETIMEDOUT) return 0 ;
    if (errno == EPIPE) _exit(0) ;
    strerr_diefu2sys(111, "read a command from holdingpend for pool ", h->pool) ;
  }
  if (!r) _exit(0) ;
  if (m.len != 1 || m.nfds)
  {
    unixmessage_drop(&m) ;
    strerr_dief2x(111, "protocol error from holdingpend for pool ", h->pool) ;
  }
  return m.s[0] ;
}

 /* Transient failures: back off, 1 s doubling to 60 s, and tell holdingpend once. */
static void reserve_or_wait (helper *h)
{
  unsigned int delay = 1 ;
  int told = 0 ;
  while (!reserve(h))
  {
    tain deadline ;
    if (!told)
    {
      strerr_warnwu4sys("reserve for pool ", h->pool, " in ", hp_kind_isdisk(h->kind) ? h->dir : (h->kind == HP_KIND_HUGETLB ? "the hugepage pool (see vm.nr_hugepages)" : "memory")) ;
      send_byte(h, HOLDINGPEN_HELPER_SHORT, -1) ;
      told = 1 ;
    }
    tain_addsec_g(&deadline, delay) ;
    if (command(h, &deadline))
      strerr_dief2x(111, "unexpected command from holdingpend while reserving for pool ", h->pool) ;
    if (delay < 60) delay <<= 1 ;
  }
}

static void oom_protect (void)
{
  if (!openwritenclose_unsafe("/proc/self/oom_score_adj", "-1000\n", 6))
    strerr_warnwu1sys("protect the reservation from the OOM killer (write /proc/self/oom_score_adj)") ;
}

int main (int argc, char const *const *argv)
{
  helper h = HELPER_ZERO ;
  PROG = "holdingpen-helper" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "lD:p:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'l' : h.lock = 1 ; break ;
        case 'D' : h.dir = l.arg ; break ;
        case 'p' : h.pool = l.arg ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (argc < 2) dieusage() ;
  if (!hp_kind_scan(argv[0], &h.kind)) strerr_dief2x(100, "unknown kind: ", argv[0]) ;
  {
    size_t len = hp_size_scan(argv[1], &h.size) ;
    if (!len || argv[1][len] || h.size > (uint64_t)SIZE_MAX) strerr_dief2x(100, "invalid size: ", argv[1]) ;
  }
  if (hp_kind_isdisk(h.kind) && !h.dir) strerr_dief1x(100, "kinds file and ballast-disk need -D dir") ;
  unixconnection_init(&h.conn, 1, 1) ;
  if (ndelay_on(1) < 0) strerr_diefu1sys(111, "make the control socket non-blocking") ;
  tain_now_set_stopwatch_g() ;
  oom_protect() ;

  for (;;)
  {
    char c ;
    reserve_or_wait(&h) ;
    send_byte(&h, HOLDINGPEN_HELPER_READY, hp_kind_isfd(h.kind) ? h.fd : -1) ;
    c = command(&h, &tain_infinite) ;
    if (c == HOLDINGPEN_HELPER_GIVE)
    {
       /* ballast: the program about to start needs exactly what we hold */
      drop(&h) ;
      send_byte(&h, HOLDINGPEN_HELPER_FREED, -1) ;
      c = command(&h, &tain_infinite) ;
    }
    if (c != HOLDINGPEN_HELPER_EMPTY) strerr_dief2x(111, "unexpected command from holdingpend for pool ", h.pool) ;
    scrub(&h) ;
  }
}
