/* ISC license. */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>

#include <skalibs/types.h>
#include <skalibs/uint64.h>
#include <skalibs/alloc.h>
#include <skalibs/error.h>
#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>
#include <skalibs/cbuffer.h>
#include <skalibs/avltreen.h>
#include <skalibs/unixmessage.h>
#include <skalibs/unixconnection.h>

#include "holdingpend-internal.h"

 /*
   The conversation with the helper processes: spawning, messages both
   ways, going quiet, reaping. holdingpend talks to a helper only while
   it waits for an answer (a reservation, a ballast given back): the
   rest of the time the helper's socket is not polled and costs no
   buffer, and a helper's death is learned from SIGCHLD, its pid found
   in a tree. What a message means for the slot is slot.c's business.
*/

static void *pid_dtok (uint32_t d, void *aux)
{
  (void)aux ;
  return &slot_of_index(d)->pid ;
}

static int pid_cmp (void const *a, void const *b, void *aux)
{
  pid_t pa = *(pid_t const *)a ;
  pid_t pb = *(pid_t const *)b ;
  (void)aux ;
  return pa < pb ? -1 : pa > pb ;
}

static void unwatch (slot *s)
{
  if (!s->watched) return ;
  epoll_ctl(g.epfd, EPOLL_CTL_DEL, s->helperfd, 0) ;
  s->watched = 0 ;
}

 /*
   A quiet helper may still speak (a file slot's helper reports writes
   into an ended lease's file): its socket waits in the epoll set, which
   costs the loop nothing until it does.
*/
static void watch (slot *s)
{
  struct epoll_event ev = { .events = EPOLLIN, .data = { .u32 = WATCH_HELPER | s->index } } ;
  if (s->watched || s->helperfd < 0) return ;
  if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, s->helperfd, &ev) < 0 && g.verbosity) strerr_warnwu1sys("add a helper to the epoll set") ;
  else s->watched = 1 ;
}

static int talk (slot *s)
{
  unixconnection *conn ;
  if (s->helper) return 1 ;
   /* without memory for the conversation, the socket stays where it was */
  conn = alloc(sizeof(unixconnection)) ;
  if (!conn) return 0 ;
  unwatch(s) ;
  s->helper = conn ;
  unixconnection_init(s->helper, s->helperfd, s->helperfd) ;
  ilist_append(&g.talking, s->index, &slot_tlink) ;
  return 1 ;
}

static void untalk (slot *s)
{
  ilist_remove(&g.talking, s->index, &slot_tlink) ;
  unixconnection_free(s->helper) ;
  alloc_free(s->helper) ;
  s->helper = 0 ;
}

 /* Nothing expected, nothing queued, nothing buffered: the conversation's memory goes. */
void helper_quiet (slot *s)
{
  if (!s->helper) return ;
  if (!unixmessage_sender_isempty(&s->helper->out) || !cbuffer_isempty(&s->helper->in.mainb)) return ;
  untalk(s) ;
  watch(s) ;
}

static void helper_close (slot *s)
{
  if (s->helper) untalk(s) ;
  unwatch(s) ;
  if (s->helperfd >= 0) fd_close(s->helperfd) ;
  s->helperfd = -1 ;
}

 /* The helper exits on end of file; TERM is for one busy reserving a big region. */
void helper_stop (slot *s)
{
  log_flush() ;
  helper_close(s) ;
  if (s->pid > 0)
  {
    avltreen_delete(&g.helpers, &s->pid) ;
    kill(s->pid, SIGTERM) ;
  }
  s->pid = 0 ;
}

 /* A helper just spawned that cannot be used goes (ours, not reaped yet: its pid is its own); 0, errno kept. */
static int spawn_undo (pid_t pid, int fd, char const *why)
{
  int e = errno ;
  if (g.verbosity) strerr_warnwu2sys(why, ", the helper is stopped and spawned again") ;
  if (fd >= 0) fd_close(fd) ;
  kill(pid, SIGTERM) ;
  errno = e ;
  return 0 ;
}

 /* 1: a helper runs for s, its socket in s->helperfd, talking; 0 and errno (ENOMEM: no fault of the slot's) if none could be started. */
int helper_spawn (slot *s)
{
  hp_poolconf const *conf = &s->pool->conf ;
  char const *argv[14] ;
  char fmt[UINT64_FMT] ;
  unsigned int m = 0 ;
  int fd ;
  pid_t pid ;
  fmt[uint64_fmt(fmt, conf->size)] = 0 ;
  argv[m++] = g.helper ;
   /* -R: this holdingpen understands short reasons and leak reports */
  argv[m++] = "-R" ;
   /* -P: its resource comes with r whatever the kind, to be kept; -A: it takes one over */
  if (g.keeppath) argv[m++] = "-P" ;
  if (s->adopt >= 0) argv[m++] = "-A" ;
   /* -q: at -v 0, nothing on stderr, the helpers' warnings included */
  if (!g.verbosity) argv[m++] = "-q" ;
  if (conf->lock) argv[m++] = "-l" ;
  if (conf->dir[0]) { argv[m++] = "-D" ; argv[m++] = conf->dir ; }
  argv[m++] = "-p" ;
  argv[m++] = conf->name ;
  argv[m++] = hp_kind_names[conf->kind] ;
  argv[m++] = fmt ;
  argv[m++] = 0 ;
  log_flush() ;
  pid = child_spawn1_socket(g.helper, argv, g.envp, &fd) ;
  if (!pid)
  {
    if (g.verbosity) strerr_warnwu2sys("spawn ", g.helper) ;
    return 0 ;
  }
  if (ndelay_on(fd) < 0) return spawn_undo(pid, fd, "make a helper socket non-blocking") ;
   /* the conversation first: a helper in the tree is one we can talk to */
  s->helperfd = fd ;
  if (!talk(s))
  {
    s->helperfd = -1 ;
    return spawn_undo(pid, fd, "allocate a helper connection") ;
  }
  s->pid = pid ;
   /* slot_room made room for every slot's helper: a full tree is a bug */
  if (!avltreen_insert(&g.helpers, s->index))
  {
#ifdef HP_TREE_CHECKS
    strerr_dief1x(111, "the helper tree is full") ;
#endif
    s->pid = 0 ;
    helper_close(s) ;
    errno = ENOSPC ;
    return spawn_undo(pid, -1, "record a helper, the helper tree is full") ;
  }
  return 1 ;
}

 /* A message to the helper, with fd (-1: none), which goes with it whatever happens. */
int helper_tell (slot *s, char const *msg, size_t len, int fd)
{
  unixmessage m = { .s = (char *)msg, .len = len, .fds = &fd, .nfds = fd >= 0 } ;
  log_flush() ;
  if (s->helperfd < 0 || !talk(s)
   || !unixmessage_put_and_close(&s->helper->out, &m, fd >= 0 ? unixmessage_bits_closeall : unixmessage_bits_closenone))
  {
    if (fd >= 0) fd_close(fd) ;
    return 0 ;
  }
  if (!unixmessage_sender_flush(&s->helper->out) && !error_isagain(errno)) return 0 ;
  return 1 ;
}

void helper_reap (void)
{
  for (;;)
  {
    int wstat ;
    uint32_t i ;
    slot *s ;
    pid_t pid = wait_nohang(&wstat) ;
    if (pid <= 0) return ;
    if (!avltreen_search(&g.helpers, &pid, &i)) continue ;
    avltreen_delete(&g.helpers, &pid) ;
    s = slot_of_index(i) ;
    helper_close(s) ;
     /* s->pid is still there for the log: slot_helper_exited clears it */
    slot_helper_exited(s, wstat) ;
  }
}

static void protocol_error (slot *s)
{
  log_slot("helper-error", s) ;
  helper_stop(s) ;
  slot_helper_lost(s, LOST_CRASH) ;
}

 /*
   No memory to hear a helper out: what it said is lost with its
   conversation (skalibs' receiver cannot go on after a failed
   allocation), so it is stopped, as for a protocol error, and its slot
   respawned without backoff (or, held, remade at its lease's end).
*/
static void helper_starved (slot *s)
{
  log_slot("helper-nomem", s) ;
  helper_stop(s) ;
  slot_helper_lost(s, LOST_NOMEM) ;
}

static int reason_valid (char const *s, size_t len)
{
  if (!len || len > HOLDINGPEN_HELPER_REASON_MAX) return 0 ;
  for (size_t i = 0 ; i < len ; i++) if (s[i] < 'a' || s[i] > 'z') return 0 ;
  return 1 ;
}

 /* l lease bytes: someone wrote into an ended lease's file; the helper freed it again */
static int leak_report (slot *s, unixmessage const *m)
{
  uint64_t lease, bytes ;
  if (m->len != HOLDINGPEN_HELPER_LEAK_LEN || m->nfds) return 0 ;
  uint64_unpack_big(m->s + HOLDINGPEN_HELPER_LEAK_LEASE, &lease) ;
  uint64_unpack_big(m->s + HOLDINGPEN_HELPER_LEAK_BYTES, &bytes) ;
  s->pool->leaked += bytes ;
  log_leak(s, lease, bytes) ;
  return 1 ;
}

 /* 1 if the message is one the slot may get in its state, and done; 0 (EPROTO) if not */
static int helper_message (slot *s, unixmessage const *m)
{
  char c = m->len == 1 ? m->s[0] : 0 ;
  int preparing = s->state == SLOT_PREPARING || s->state == SLOT_SCRUBBING ;
   /* s alone (reason unknown) or s and its reason word */
  if (m->len && m->s[0] == HOLDINGPEN_HELPER_SHORT && preparing && !m->nfds
   && (m->len == 1 || reason_valid(m->s + HOLDINGPEN_HELPER_SHORT_REASON, m->len - HOLDINGPEN_HELPER_SHORT_REASON)))
  {
    slot_short(s, m->s + HOLDINGPEN_HELPER_SHORT_REASON, m->len - HOLDINGPEN_HELPER_SHORT_REASON) ;
    return 1 ;
  }
  if (m->len && m->s[0] == HOLDINGPEN_HELPER_LEAK) return leak_report(s, m) ;
  if (c == HOLDINGPEN_HELPER_READY && preparing && m->nfds == (hp_kind_isfd(s->pool->conf.kind) || g.keeppath ? 1U : 0U))
  {
    slot_ready(s, m->nfds ? m->fds[0] : -1) ;
    return 1 ;
  }
  if (c == HOLDINGPEN_HELPER_FREED && !m->nfds && s->state == SLOT_GRANTING)
  {
    slot_freed(s) ;
    return 1 ;
  }
  unixmessage_drop(m) ;
  return (errno = EPROTO, 0) ;
}

void helper_read (slot *s)
{
  for (unsigned int n = 0 ; n < UNIXMESSAGE_MAXREADS && s->helper ; n++)
  {
    unixmessage m ;
    int r = unixmessage_receive(&s->helper->in, &m) ;
    if (!r) break ;
    if (r < 0)
    {
       /* the helper is exiting, with or without unread bytes: SIGCHLD will say why */
      if (errno == EPIPE || errno == ECONNRESET) helper_close(s) ;
      else if (errno == ENOMEM) helper_starved(s) ;
      else protocol_error(s) ;
      return ;
    }
    if (!helper_message(s, &m)) { protocol_error(s) ; return ; }
  }
  if (s->state != SLOT_PREPARING && s->state != SLOT_SCRUBBING && s->state != SLOT_GRANTING) helper_quiet(s) ;
}

 /* A quiet helper spoke: hear it out, then it goes quiet again. */
void helper_wake (slot *s)
{
  if (s->helperfd < 0 || s->state == SLOT_GONE) return ;
   /* its socket stays readable: without a conversation it would wake the loop every turn */
  if (!talk(s)) { helper_starved(s) ; return ; }
  helper_read(s) ;
}

void helper_write (slot *s)
{
  if (!s->helper) return ;
  if (!unixmessage_sender_flush(&s->helper->out) && !error_isagain(errno)) protocol_error(s) ;
}

void helper_init (void)
{
  if (!hp_tree_init(&g.helpers, 16, &pid_dtok, &pid_cmp, 0)) strerr_diefu1sys(111, "allocate the helper tree") ;
}
