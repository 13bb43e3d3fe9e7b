/* ISC license. */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <skalibs/alloc.h>
#include <skalibs/cdb.h>
#include <skalibs/genalloc.h>
#include <skalibs/iopause.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/unixmessage.h>

#include "holdingpend-internal.h"

 /*
   libFuzzer entry for holdingpend's own client handling, on a live
   socket: the daemon's files but holdingpend.c, the global set up as
   its start_loop does, the embedded default pool without helpers (the
   link replaces child_spawn1_socket with one that fails at once):
   before each input its first slot is made ready by hand with a fresh
   memfd, as if its helper had said so, so that claims can be granted.
   Each input is one connection. Its bytes are cut into writes by
   control bytes:
     b & 0x3f   1 + this many bytes follow, written in one sendmsg
     b & 0x80   with SCM_RIGHTS: 3 /dev/null fds if b & 0x40, else 1
     b & 0x40   without 0x80: let the daemon read before the next write
   then the daemon reads and writes until nothing changes, the peer
   closes, the daemon sees it. After each input no client is left and
   the process has the fds it had before it, but for those of the slots.
*/

#define MAXCONN 4
#define PUMP_MAX 16

struct global_s g = GLOBAL_ZERO ;

static int devnull = -1 ;

 /* holdingpend.c's, which is not linked: the fuzzer has no iopause array to make room in */
int loop_room (uint32_t n)
{
  (void)n ;
  return 1 ;
}

 /* linked with -Wl,--wrap=child_spawn1_socket: no helper is ever started */
extern pid_t __wrap_child_spawn1_socket (char const *, char const *const *, char const *const *, int *) ;
pid_t __wrap_child_spawn1_socket (char const *prog, char const *const *argv, char const *const *envp, int *fd)
{
  (void)prog ; (void)argv ; (void)envp ; (void)fd ;
  return (errno = ENOSYS, 0) ;
}

static unsigned int fd_count (void)
{
  unsigned int n = 0 ;
  DIR *d = opendir("/proc/self/fd") ;
  struct dirent *e ;
  if (!d) abort() ;
  while ((e = readdir(d))) if (e->d_name[0] != '.') n++ ;
  closedir(d) ;
  return n - 1 ;  /* the directory's own fd */
}

static slot *first_slot (void)
{
  pool *p = NPOOLS() ? POOLS()[0] : 0 ;
  return p && NSLOTS(p) ? SLOTS(p)[0] : 0 ;
}

 /* what a helper's "r" does, without a helper */
static void make_ready (void)
{
  slot *s = first_slot() ;
  int fd ;
  if (!s || s->state == SLOT_READY || s->state == SLOT_HELD) return ;
  timer_cancel(&s->respawn) ;
  fd = memfd_create("fuzz-slot", MFD_CLOEXEC) ;
  if (fd < 0) abort() ;
  slot_ready(s, fd) ;
}

static unsigned int slot_fds (void)
{
  unsigned int n = 0 ;
  for (size_t i = 0 ; i < NPOOLS() ; i++)
    for (size_t j = 0 ; j < NSLOTS(POOLS()[i]) ; j++)
      if (SLOTS(POOLS()[i])[j]->fd >= 0) n++ ;
  return n ;
}

static client *find_client (int fd)
{
  for (unsigned int i = 0 ; i < g.maxconn ; i++)
    if (CLIENT(i)->state != CLIENT_FREE && client_fd(CLIENT(i)) == fd) return CLIENT(i) ;
  return 0 ;
}

static void setup (void)
{
  stralloc err = STRALLOC_ZERO ;
  PROG = "fuzz-client" ;
  g.helper = "/nonexistent/holdingpen-helper" ;
  g.maxconn = MAXCONN ;
  g.verbosity = 0 ;
  g.clients = calloc(g.maxconn, sizeof(client)) ;
  g.clientfree = alloc(g.maxconn * sizeof(uint32_t)) ;
  if (!g.clients || !g.clientfree) abort() ;
  client_init() ;
  lease_init() ;
  timer_init() ;
  slot_init() ;
  g.epfd = epoll_create1(EPOLL_CLOEXEC) ;
  if (g.epfd < 0) abort() ;
  tain_now_set_stopwatch_g() ;
  g.start = STAMP ;
  g.answertto = tain_infinite_relative ;
  g.myuid = getuid() ;
  if (pools_configure(&err) <= 0) abort() ;
  stralloc_free(&err) ;
  devnull = open("/dev/null", O_RDONLY | O_CLOEXEC) ;
  if (devnull < 0) abort() ;
}

 /* The peer reads what the daemon answered, and closes the fds that came with it. */
static size_t drain (int fd)
{
  size_t total = 0 ;
  for (;;)
  {
    char buf[4096] ;
    union { struct cmsghdr h ; char buf[CMSG_SPACE(8 * sizeof(int))] ; } ctl ;
    struct iovec v = { .iov_base = buf, .iov_len = sizeof(buf) } ;
    struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) } ;
    ssize_t r = recvmsg(fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) ;
    if (r <= 0) return total ;
    total += (size_t)r ;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m) ; c ; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) ;
        int fds[8] ;
        memcpy(fds, CMSG_DATA(c), n * sizeof(int)) ;
        for (size_t i = 0 ; i < n ; i++) close(fds[i]) ;
      }
  }
}

 /* A client's visible state: what changes when the daemon makes progress with it. */
static size_t fingerprint (client const *c)
{
  return ((size_t)c->state << 24) ^ ((c->in ? c->in->len + 1 : 0) << 2) ^ (size_t)unixmessage_sender_isempty(&c->out) ;
}

 /* What the loop would do for this client, until it is gone or nothing changes. */
static void pump (int fd, int peer)
{
  for (unsigned int n = 0 ; n < PUMP_MAX ; n++)
  {
    client *c = find_client(fd) ;
    size_t before, drained = 0 ;
    if (!c) return ;
    before = fingerprint(c) ;
    if (client_events(c) & IOPAUSE_WRITE) client_write(c) ;
    c = find_client(fd) ;
    if (!c) return ;
    if (c->state != CLIENT_CLOSING && client_events(c) & IOPAUSE_READ) client_read(c) ;
    if (peer >= 0) drained = drain(peer) ;
    slot_collect() ;
    pool_collect() ;
    c = find_client(fd) ;
    if (!c) return ;
    if (!drained && fingerprint(c) == before) return ;
  }
}

static void put (int peer, uint8_t const *s, size_t len, unsigned int nfds)
{
  union { struct cmsghdr h ; char buf[CMSG_SPACE(3 * sizeof(int))] ; } ctl ;
  struct iovec v = { .iov_base = (void *)s, .iov_len = len } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 } ;
  if (nfds)
  {
    struct cmsghdr *c ;
    int *fds ;
    memset(&ctl, 0, sizeof(ctl)) ;
    m.msg_control = ctl.buf ;
    m.msg_controllen = CMSG_SPACE(nfds * sizeof(int)) ;
    c = CMSG_FIRSTHDR(&m) ;
    c->cmsg_level = SOL_SOCKET ;
    c->cmsg_type = SCM_RIGHTS ;
    c->cmsg_len = CMSG_LEN(nfds * sizeof(int)) ;
    fds = (int *)CMSG_DATA(c) ;
    for (unsigned int i = 0 ; i < nfds ; i++) fds[i] = devnull ;
  }
  sendmsg(peer, &m, MSG_DONTWAIT | MSG_NOSIGNAL) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  int sv[2] ;
  size_t i = 0 ;
  unsigned int basefds ;
  client *c ;
  if (!g.clients) setup() ;
  make_ready() ;
   /* counted for each input: between inputs libFuzzer may start a symbolizer, with its pipes */
  basefds = fd_count() - slot_fds() ;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) abort() ;
  client_new(sv[0]) ;
  if (!find_client(sv[0])) abort() ;
  while (i < size)
  {
    uint8_t b = data[i++] ;
    size_t len = (size_t)(b & 0x3f) + 1 ;
    if (len > size - i) len = size - i ;
    put(sv[1], data + i, len, b & 0x80 ? (b & 0x40 ? 3 : 1) : 0) ;
    i += len ;
    if ((b & 0xc0) == 0x40) pump(sv[0], sv[1]) ;
  }
  pump(sv[0], sv[1]) ;
  close(sv[1]) ;
  pump(sv[0], -1) ;
  c = find_client(sv[0]) ;
  if (c) client_close(c) ;
  helper_reap() ;
  slot_collect() ;
  pool_collect() ;
  if (NCLIENTS()) abort() ;
  if (fd_count() != basefds + slot_fds()) abort() ;
  return 0 ;
}
