/* ISC license. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include <skalibs/types.h>
#include <skalibs/uint64.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/iopause.h>
#include <skalibs/posixplz.h>
#include <skalibs/djbunix.h>
#include <skalibs/random.h>
#include <skalibs/unixmessage.h>
#include <skalibs/unixconnection.h>

#include "hppool.h"

#define USAGE "holdingpen-helper [ -l ] [ -R ] [ -P ] [ -A ] [ -q ] [ -D dir ] [ -p pool ] kind size"
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   One process per slot. It creates the resource, sends it up to
   holdingpend, keeps its own copy while the slot is held, and when the
   lease ends empties that copy before making a fresh one: whoever kept
   an fd to the old resource then holds no memory or blocks through it.
   Its control socket is fd 1; when holdingpend goes away, so does it.

   Memory is taken only after a look at what is available: shmem and
   mlocked pages are charged page by page and never fail with ENOMEM,
   the OOM killer runs instead. A helper that cannot take its size
   without going under the margin (hppool.h) says so, short, with a
   reason, and tries again later.

   A file slot's old fd cannot be revoked: the helper keeps its own
   copy of the last LEAK_KEEP files for LEAK_SECS after their lease,
   looks at their blocks every LEAK_CHECK seconds, and frees and reports
   what a leaker wrote there since the scrub.

   Every kind is held in an fd, ballast included (a memfd, a file), so
   that with -P holdingpend can keep a copy across its own restart,
   and with -A a new helper can take that copy back instead of
   reserving anew. Since holdingpend may hold a copy, nothing is ever
   freed by closing: the memory or the blocks are freed by punching or
   truncating, then the fd is closed.
 */

#define LEAK_KEEP 8
#define LEAK_SECS 3600
#define LEAK_CHECK 5

typedef struct kept_s kept, *kept_ref ;
struct kept_s
{
  int fd ;
  uint64_t lease ;
  tain until ;
} ;

typedef struct helper_s helper, *helper_ref ;
struct helper_s
{
  unixconnection conn ;
  char const *pool ;
  char const *dir ;
  uint64_t size ;
  unsigned int kind ;
  unsigned int lock : 1 ;
  unsigned int talk : 1 ;  /* -R: holdingpend reads s with a reason, and l */
  unsigned int persist : 1 ;  /* -P: r carries the fd for every kind */
  unsigned int adopt : 1 ;  /* -A: wait for a, h or e before reserving */
  unsigned int quiet : 1 ;  /* -q: no warnings (holdingpend -v 0) */
  int fd ;
  void *map ;
  char const *reason ;  /* why the last reserve() failed for now */
  hp_dirwalk walk ;     /* why dir was refused, when it was */
  uint64_t lease ;      /* of the current holder, as holdingpend said in e */
  kept kept[LEAK_KEEP] ;
  unsigned int nkept ;
  tain nextcheck ;
} ;
#define HELPER_ZERO { .conn = UNIXCONNECTION_ZERO, .pool = "?", .dir = 0, .size = 0, .kind = 0, .lock = 0, .talk = 0, .persist = 0, .adopt = 0, .quiet = 0, .fd = -1, .map = 0, .reason = 0, .lease = 0, .nkept = 0 }

 /*
   Errors that more memory or disk later may cure: retry, with the word
   holdingpend logs. Others: fail for good (0).
 */
static char const *transient (int e, unsigned int kind)
{
  switch (e)
  {
    case ENOMEM : return HOLDINGPEN_SHORT_NOMEM ;
    case ENOSPC : return kind == HP_KIND_HUGETLB ? HOLDINGPEN_SHORT_HUGEPAGES : HOLDINGPEN_SHORT_NOSPACE ;
    case EDQUOT : return HOLDINGPEN_SHORT_QUOTA ;
    case EAGAIN :
    case EBUSY : return HOLDINGPEN_SHORT_BUSY ;
    default : return 0 ;
  }
}

 /* holdingpend gone (EOF, EPIPE, ECONNRESET) is no error: we go too, quietly. */
static void gone_or_die (helper *h, char const *what)
{
  if (errno == EPIPE || errno == ECONNRESET) _exit(0) ;
  strerr_diefu3sys(111, what, " holdingpend for pool ", h->pool) ;
}

static void send_msg (helper *h, char const *s, size_t len, int fd)
{
  unixmessage m = { .s = (char *)s, .len = len, .fds = &fd, .nfds = fd >= 0 } ;
  if (!unixmessage_put(&h->conn.out, &m)
   || !unixmessage_sender_timed_flush_g(&h->conn.out, &tain_infinite))
    gone_or_die(h, "talk to") ;
}

static void send_byte (helper *h, char c, int fd)
{
  send_msg(h, &c, 1, fd) ;
}

 /*
   dir, walked from / at the moment we use it (hp_dir_open): holdingpend
   checked it when it read the configuration, but a name that did not
   exist then, in a directory others can write to, may be a symlink
   now. Missing, or not to be trusted: short, h->reason set, and we look
   again at the next try. -1 and errno otherwise.
 */
static int open_dir (helper *h)
{
  int fd = hp_dir_open(h->dir, geteuid(), &h->walk) ;
  if (fd >= 0) return fd ;
  if (h->walk.why) h->reason = HOLDINGPEN_SHORT_UNSAFEDIR ;
  else if (errno == ENOENT) h->reason = HOLDINGPEN_SHORT_NODIR ;
  return -1 ;
}

 /* No O_TMPFILE here: a named file, unlinked at once, leaves no name behind. */
static int open_named (int dirfd)
{
  char name[20] = ".holdingpen-" ;
  for (unsigned int i = 0 ; i < 100 ; i++)
  {
    int fd ;
    random_name(name + 12, 6) ;
    name[18] = 0 ;
    fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) ;
    if (fd >= 0)
    {
      unlinkat(dirfd, name, 0) ;
      return fd ;
    }
    if (errno != EEXIST) return -1 ;
  }
  return (errno = EEXIST, -1) ;
}

static int open_file (helper *h)
{
  int fd ;
  int dirfd = open_dir(h) ;
  if (dirfd < 0) return -1 ;
  fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) ;
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) fd = open_named(dirfd) ;
  {
    int e = errno ;
    fd_close(dirfd) ;
    errno = e ;
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

 /* A failure after the resource was made: it goes, errno stays what failed. 0, always. */
static int drop_failing (helper *h)
{
  int e = errno ;
  drop(h) ;
  return (errno = e, 0) ;
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
   Before taking len more bytes of memory: is it there? The word says
   where it is not; 0 if it is. hugetlb comes from the hugepage pool,
   which fails cleanly (ENOSPC), not from MemAvailable: look at the
   pool's free pages instead, so as to say why at once.
 */
static char const *memshort (helper *h, uint64_t len)
{
  if (h->kind == HP_KIND_HUGETLB)
  {
    uint64_t free, rsvd = 0, hps = hp_hugepagesize() ;
    if (hps && hp_meminfo("HugePages_Free", &free))
    {
      hp_meminfo("HugePages_Rsvd", &rsvd) ;
      if (free < rsvd || (free - rsvd) * hps < len) return HOLDINGPEN_SHORT_HUGEPAGES ;
    }
    return 0 ;
  }
  if (!hp_memcg_fits(len)) return HOLDINGPEN_SHORT_CGROUP ;
  if (!hp_mem_fits(len)) return HOLDINGPEN_SHORT_MEMAVAILABLE ;
  return 0 ;
}

 /*
   Takes the memory chunk by chunk, each looked at first: the helpers
   of a pool reserve at the same time, and others allocate meanwhile.
   op takes [off, off+len) for good: fallocate or mlock. 1: taken; 0:
   short, h->reason set, errno set, everything dropped.
 */
static int take (helper *h, int (*op)(helper *, uint64_t, uint64_t), int look)
{
   /* hugepages may be larger than a chunk, and their pool fails cleanly: one go */
  uint64_t chunk = h->kind == HP_KIND_HUGETLB ? h->size : HP_RESERVE_CHUNK ;
  for (uint64_t off = 0 ; off < h->size ; off += chunk)
  {
    uint64_t len = h->size - off < chunk ? h->size - off : chunk ;
    h->reason = look ? memshort(h, off ? len : h->size) : 0 ;
    if (h->reason) { drop(h) ; return (errno = h->kind == HP_KIND_HUGETLB ? ENOSPC : ENOMEM, 0) ; }
    if ((*op)(h, off, len) < 0) return drop_failing(h) ;
  }
  return 1 ;
}

static int op_fallocate (helper *h, uint64_t off, uint64_t len)
{
  return fallocate(h->fd, 0, (off_t)off, (off_t)len) ;
}

 /* A refusal by RLIMIT_MEMLOCK will not go away by waiting: fail for good. */
static int op_mlock (helper *h, uint64_t off, uint64_t len)
{
  if (mlock((char *)h->map + off, len) == 0) return 0 ;
  if (errno == EPERM || (errno == ENOMEM && getuid()))
  {
    drop(h) ;
    strerr_dief3x(100, "pool ", h->pool, ": mlock refused: raise RLIMIT_MEMLOCK or give CAP_IPC_LOCK (run as root)") ;
  }
  return -1 ;
}

 /*
   Maps h->fd and locks the whole size, a chunk at a time. The pages
   were made by fallocate: locking takes no more, no need to look.
 */
static int map_and_lock (helper *h)
{
  h->map = mmap(0, h->size, PROT_READ, MAP_SHARED, h->fd, 0) ;
  if (h->map == MAP_FAILED) { h->map = 0 ; return drop_failing(h) ; }
  return take(h, &op_mlock, 0) ;
}

 /*
   The resource is allocated in h->fd, just now or by an earlier
   helper: make its pages ready for the holder. A ballast is always
   locked: its point is that the memory is really there, in RAM.
   hugetlbfs clears its pages in fallocate; with -l, mlock faults them
   in. 1: ready; 0: errno set, everything dropped.
 */
static int settle (helper *h)
{
  switch (h->kind)
  {
    case HP_KIND_BALLAST_MEM : return map_and_lock(h) ;
    case HP_KIND_MEMFD :
    case HP_KIND_HUGETLB :
      if (h->lock) return map_and_lock(h) ;
      return h->kind == HP_KIND_MEMFD && !prefault(h) ? drop_failing(h) : 1 ;
    default : return 1 ;
  }
}

 /* 1: reserved; 0: transient failure, errno and h->reason set; dies if it can never work. */
static int reserve (helper *h)
{
  int r ;
  h->reason = 0 ;
  h->fd = hp_kind_isdisk(h->kind) ? open_file(h) : open_memfd(h) ;
  if (h->fd < 0)
  {
    if (h->reason || (h->reason = transient(errno, h->kind))) return 0 ;
    strerr_diefu4sys(100, "create the resource for pool ", h->pool, " in ", h->dir ? h->dir : "memory") ;
  }
  if (hp_kind_isdisk(h->kind))
  {
     /* a full disk says ENOSPC, cleanly: no need to look first */
    r = fallocate(h->fd, 0, 0, (off_t)h->size) < 0 ? drop_failing(h) : 1 ;
  }
  else
  {
    r = take(h, &op_fallocate, 1) ;
    if (r && fcntl(h->fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
      strerr_diefu2sys(111, "seal the memfd for pool ", h->pool) ;
  }
  if (r) r = settle(h) ;
  if (r) return 1 ;
  if (h->reason) return 0 ;
  if ((h->reason = transient(errno, h->kind))) return 0 ;
  strerr_diefu2sys(100, "allocate the resource for pool ", h->pool) ;
}

 /* Stops watching copy i. */
static void kept_close (helper *h, unsigned int i)
{
  fd_close(h->kept[i].fd) ;
  h->kept[i] = h->kept[--h->nkept] ;
}

 /* Empties a file copy and says how many bytes it held (hp_resource_empty, which holdingpend shares). */
static uint64_t file_empty (int fd)
{
  uint64_t held ;
  return hp_resource_empty(fd, &held) ? held : 0 ;
}

 /* Looks at the kept copies: frees and reports what was written since, drops the old ones. */
static void leaks_check (helper *h)
{
  unsigned int i = 0 ;
  while (i < h->nkept)
  {
    uint64_t bytes = file_empty(h->kept[i].fd) ;
    if (bytes)
    {
      char fmt[UINT64_FMT] ;
      char msg[HOLDINGPEN_HELPER_LEAK_LEN] ;
      msg[0] = HOLDINGPEN_HELPER_LEAK ;
      uint64_pack_big(msg + HOLDINGPEN_HELPER_LEAK_LEASE, h->kept[i].lease) ;
      uint64_pack_big(msg + HOLDINGPEN_HELPER_LEAK_BYTES, bytes) ;
      fmt[uint64_fmt(fmt, bytes)] = 0 ;
      if (!h->quiet) strerr_warnw5x("pool ", h->pool, ": a copy of an ended lease's file was written to: freed ", fmt, " bytes") ;
      if (h->talk) send_msg(h, msg, sizeof(msg), -1) ;
    }
    if (!tain_future(&h->kept[i].until)) kept_close(h, i) ;
    else i++ ;
  }
  tain_addsec_g(&h->nextcheck, LEAK_CHECK) ;
}

 /* A file's holder may have given its fd to anyone: keep ours to watch it, the oldest goes first. */
static void keep (helper *h)
{
  if (h->nkept == LEAK_KEEP)
  {
    unsigned int oldest = 0 ;
    for (unsigned int i = 1 ; i < LEAK_KEEP ; i++)
      if (tain_less(&h->kept[i].until, &h->kept[oldest].until)) oldest = i ;
    kept_close(h, oldest) ;
  }
  if (!h->nkept) tain_addsec_g(&h->nextcheck, LEAK_CHECK) ;
  h->kept[h->nkept].fd = h->fd ;
  h->kept[h->nkept].lease = h->lease ;
  tain_addsec_g(&h->kept[h->nkept].until, LEAK_SECS) ;
  h->nkept++ ;
  h->fd = -1 ;
}

 /*
   Frees the memory or the blocks of the resource, which others may
   still hold (the old holder, holdingpend's copy with -P): closing our
   fd would free nothing then.
 */
static void empty (helper *h)
{
  uint64_t held ;
  unmap(h) ;
  if (h->fd >= 0 && !hp_resource_empty(h->fd, &held) && !h->quiet)
    strerr_warnwu2sys("empty the old resource of pool ", h->pool) ;
}

 /* The old holder may keep an fd: empty the resource so that it holds nothing. */
static void scrub (helper *h)
{
  empty(h) ;
  if (h->fd >= 0 && h->kind == HP_KIND_FILE) keep(h) ;
  else drop(h) ;
}

 /*
   Waits for a command, 0 if none by deadline; dies quietly when
   holdingpend is gone. e and q may carry the lease that ended. a and h come
   with one fd, stored in *fd, and only where fd is given: as the first
   command of a helper run with -A.
 */
static char command_once (helper *h, tain const *deadline, int *fd)
{
  unixmessage m ;
  unsigned int withfd, ended ;
  int r = unixmessage_timed_receive_g(&h->conn.in, &m, deadline) ;
   /*
     A timed receive says "deadline passed" with -1 ETIMEDOUT (the backoff
     is over), and end of file with 0 (holdingpend is gone: so are we).
   */
  if (r < 0)
  {
    if (errno == ETIMEDOUT) return 0 ;
    gone_or_die(h, "read a command from") ;
  }
  if (!r) _exit(0) ;
  withfd = m.len && (m.s[0] == HOLDINGPEN_HELPER_ADOPT || m.s[0] == HOLDINGPEN_HELPER_ADOPT_HELD) ;
  ended = m.len && (m.s[0] == HOLDINGPEN_HELPER_EMPTY || m.s[0] == HOLDINGPEN_HELPER_QUIT) ;
  if (!m.len || m.nfds != withfd || (withfd && !fd)
   || (m.len != 1 && !(ended && m.len == HOLDINGPEN_HELPER_EMPTY_LEN)))
  {
    unixmessage_drop(&m) ;
    strerr_dief2x(111, "protocol error from holdingpend for pool ", h->pool) ;
  }
  if (ended)
  {
    h->lease = 0 ;
    if (m.len == HOLDINGPEN_HELPER_EMPTY_LEN) uint64_unpack_big(m.s + HOLDINGPEN_HELPER_EMPTY_LEASE, &h->lease) ;
  }
  if (fd) *fd = withfd ? m.fds[0] : -1 ;
  return m.s[0] ;
}

 /* The same, looking at the kept copies on the way when it is time. */
static char command (helper *h, tain const *deadline, int *fd)
{
  for (;;)
  {
    tain d = *deadline ;
    char c ;
    if (h->nkept && tain_less(&h->nextcheck, &d)) d = h->nextcheck ;
    c = command_once(h, &d, fd) ;
    if (c) return c ;
    if (h->nkept && !tain_future(&h->nextcheck)) leaks_check(h) ;
    if (!tain_future(deadline)) return 0 ;
  }
}

 /* Transient failures: back off, 1 s doubling to 60 s, and tell holdingpend why, once a reason. */
static void reserve_or_wait (helper *h)
{
  unsigned int delay = 1 ;
  char const *told = 0 ;
  while (!reserve(h))
  {
    tain deadline ;
    if (!told || strcmp(told, h->reason))
    {
      size_t len = strlen(h->reason) ;
      char msg[1 + len] ;
      if (!h->quiet)
      {
        if (!strcmp(h->reason, HOLDINGPEN_SHORT_MEMAVAILABLE) || !strcmp(h->reason, HOLDINGPEN_SHORT_CGROUP))
          strerr_warnw5x("pool ", h->pool, ": short: ", h->reason, ": taking the slot now would leave less than the margin free, retrying later") ;
        else if (!strcmp(h->reason, HOLDINGPEN_SHORT_UNSAFEDIR))
        {
          char where[h->walk.len + 1] ;
          memcpy(where, h->dir, h->walk.len) ;
          where[h->walk.len] = 0 ;
          strerr_warnw9x("pool ", h->pool, ": short: ", h->reason, ": refusing to reserve through ", where, ": ", h->walk.why, ", retrying later") ;
        }
        else
          strerr_warnwu4sys("reserve for pool ", h->pool, " in ", hp_kind_isdisk(h->kind) ? h->dir : (h->kind == HP_KIND_HUGETLB ? "the hugepage pool (see vm.nr_hugepages)" : "memory")) ;
      }
      msg[0] = HOLDINGPEN_HELPER_SHORT ;
      memcpy(msg + 1, h->reason, len) ;
      send_msg(h, msg, h->talk ? 1 + len : 1, -1) ;
      told = h->reason ;
    }
    tain_addsec_g(&deadline, delay) ;
    if (command(h, &deadline, 0))
      strerr_dief2x(111, "unexpected command from holdingpend while reserving for pool ", h->pool) ;
    if (delay < 60) delay <<= 1 ;
  }
}

 /*
   Is fd what this helper would have reserved? 0 if it is, else why
   not. A memory kind is a memfd sealed as ours are, on tmpfs (on
   hugetlbfs for hugetlb); a disk kind a nameless regular file on dir's
   filesystem. full: it comes back ready, so it must have its size and
   be allocated in full; a held one is as its holder left it, and only
   has to be ours to scrub.
 */
static char const *unfit (helper const *h, int fd, int full)
{
  struct stat st ;
  int flags = fcntl(fd, F_GETFL) ;
  if (flags < 0 || fstat(fd, &st) < 0) return "cannot be looked at" ;
  if (!S_ISREG(st.st_mode)) return "is not a regular file" ;
  if ((flags & O_ACCMODE) != O_RDWR) return "is not open for reading and writing" ;
  if (hp_kind_isdisk(h->kind))
  {
    struct stat dst ;
    hp_dirwalk w ;
    int dfd = hp_dir_open(h->dir, geteuid(), &w) ;
    int r = dfd >= 0 ? fstat(dfd, &dst) : -1 ;
    if (dfd >= 0) fd_close(dfd) ;
    if (r < 0) return "cannot be compared with dir" ;
    if (st.st_dev != dst.st_dev) return "is not on the filesystem of dir" ;
    if (st.st_nlink) return "has a name" ;
  }
  else
  {
    struct statfs sf ;
    if (fcntl(fd, F_GET_SEALS) != (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)) return "is not a memfd sealed as the helper seals its own" ;
    if (fstatfs(fd, &sf) < 0) return "cannot be looked at" ;
    if (h->kind == HP_KIND_HUGETLB ? sf.f_type != HUGETLBFS_MAGIC : sf.f_type != TMPFS_MAGIC)
      return h->kind == HP_KIND_HUGETLB ? "is not on hugetlbfs" : "is not on tmpfs" ;
  }
  if ((full || !hp_kind_isdisk(h->kind)) && (uint64_t)st.st_size != h->size) return "is not of the pool's size" ;
  if (full && ((uint64_t)st.st_blocks << 9) < h->size) return "is not allocated in full" ;
  return 0 ;
}

static void unfit_warn (helper const *h, char const *what, char const *why, char const *then)
{
  if (!h->quiet) strerr_warnw6x("pool ", h->pool, ": ", what, why, then) ;
}

 /*
   a: the slot's resource, ready, kept across a restart of holdingpend.
   1: it is ours again, as if just reserved, and nothing new was
   allocated; 0: it was dropped (not ours, or not ready), reserve anew.
 */
static int take_back (helper *h, int fd)
{
  char const *why = unfit(h, fd, 1) ;
  if (why)
  {
    unfit_warn(h, "the resource given back ", why, ": dropped, reserving anew") ;
    fd_close(fd) ;
    return 0 ;
  }
  h->fd = fd ;
  if (settle(h)) return 1 ;
  if (!h->quiet) strerr_warnwu3sys("make the resource given back ready for pool ", h->pool, ": dropped, reserving anew") ;
  return 0 ;
}

 /*
   With -l, a held memfd or hugetlb slot has its pages locked by its
   helper all the lease long: the new helper locks them again. Not
   settle(): this one must not drop what it has to scrub later.
 */
static void relock (helper *h)
{
  void *p = mmap(0, h->size, PROT_READ, MAP_SHARED, h->fd, 0) ;
  if (p == MAP_FAILED) { if (!h->quiet) strerr_warnwu2sys("map the held resource of pool ", h->pool) ; return ; }
  if (mlock(p, h->size) < 0)
  {
    if (!h->quiet) strerr_warnwu2sys("lock the held resource of pool ", h->pool) ;
    munmap(p, h->size) ;
    return ;
  }
  h->map = p ;
}

 /*
   h: the resource of a slot still held by a lease that outlived
   holdingpend. The holder has its own fd: we only keep ours, to scrub
   it when the lease ends, as if we had made it. Something that is not
   ours is never scrubbed: it may be anything. Returns e or q.
 */
static char hold (helper *h, int fd)
{
  char c ;
  char const *why = unfit(h, fd, 0) ;
  if (why)
  {
    unfit_warn(h, "the held resource given back ", why, ": dropped, not scrubbed") ;
    fd_close(fd) ;
  }
  else
  {
    h->fd = fd ;
    if (h->lock && hp_kind_isfd(h->kind) && !hp_kind_isdisk(h->kind)) relock(h) ;
  }
  c = command(h, &tain_infinite, 0) ;
  if (c != HOLDINGPEN_HELPER_EMPTY && c != HOLDINGPEN_HELPER_QUIT)
    strerr_dief2x(111, "unexpected command from holdingpend for pool ", h->pool) ;
  scrub(h) ;
  return c ;
}

 /*
   -A: a new holdingpend says what it kept of this slot. 1: the slot is
   ready with what it gave back; 0: reserve (after the held lease ended,
   for h).
 */
static int adopt (helper *h)
{
  int fd ;
  switch (command(h, &tain_infinite, &fd))
  {
    case HOLDINGPEN_HELPER_ADOPT : return take_back(h, fd) ;
    case HOLDINGPEN_HELPER_ADOPT_HELD : if (hold(h, fd) == HOLDINGPEN_HELPER_QUIT) _exit(0) ; return 0 ;
    case HOLDINGPEN_HELPER_EMPTY : return 0 ;  /* nothing kept: reserve */
    default : strerr_dief2x(111, "unexpected first command from holdingpend for pool ", h->pool) ;
  }
}

 /* The slot is ready: say so, and see it through one lease, until e or q, which it returns. */
static char serve (helper *h)
{
  char c ;
  send_byte(h, HOLDINGPEN_HELPER_READY, (h->persist || hp_kind_isfd(h->kind)) ? h->fd : -1) ;
  c = command(h, &tain_infinite, 0) ;
  if (c == HOLDINGPEN_HELPER_GIVE)
  {
     /* ballast: the program about to start needs exactly what we hold */
    empty(h) ;
    drop(h) ;
    send_byte(h, HOLDINGPEN_HELPER_FREED, -1) ;
    c = command(h, &tain_infinite, 0) ;
  }
  if (c != HOLDINGPEN_HELPER_EMPTY && c != HOLDINGPEN_HELPER_QUIT)
    strerr_dief2x(111, "unexpected command from holdingpend for pool ", h->pool) ;
  return c ;
}

 /*
   Without CAP_SYS_RESOURCE this fails, and the helper, which holds the
   most memory, is the OOM killer's first choice: doc/holdingpen-helper.html
   says what is lost then. The look before taking still keeps the helper
   from being the one that calls the OOM killer in.
 */
static void oom_protect (helper const *h)
{
  if (!openwritenclose_unsafe("/proc/self/oom_score_adj", "-1000\n", 6) && !h->quiet)
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
      int opt = subgetopt_r(argc, argv, "lRPAqD:p:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'l' : h.lock = 1 ; break ;
        case 'R' : h.talk = 1 ; break ;
        case 'P' : h.persist = 1 ; break ;
        case 'A' : h.adopt = 1 ; break ;
        case 'q' : h.quiet = 1 ; break ;
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
  oom_protect(&h) ;

  if (!h.adopt || !adopt(&h)) reserve_or_wait(&h) ;
  for (;;)
  {
    char c = serve(&h) ;
    scrub(&h) ;
     /* q: the slot goes or is remade with another configuration, by another helper */
    if (c == HOLDINGPEN_HELPER_QUIT) return 0 ;
    reserve_or_wait(&h) ;
  }
}
