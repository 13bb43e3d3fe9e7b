/* ISC license. */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/alloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/sig.h>
#include <skalibs/selfpipe.h>
#include <skalibs/tai.h>
#include <skalibs/iopause.h>
#include <skalibs/djbunix.h>
#include <skalibs/unixmessage.h>

#include <holdingpen/config.h>
#include "holdingpend-internal.h"

#define USAGE "holdingpend [ -v verbosity ] [ -1 | -d notif ] [ -r readytimeout ] [ -c maxconn ] [ -C maxperuid ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ] [ -p pooldir ] [ -H helper ] [ -f fdholder [ -F keepsecs ] ]"
#define dieusage() strerr_dieusage(100, USAGE)

#define MAXCONN_DEFAULT 256
#define MAXCONN_MAX 4096
#define MAXPERUID_DEFAULT 16
#define RESERVE_ADMIN 8
#define KEEPSECS_DEFAULT 300
#define X_SELFPIPE 0
#define X_LISTEN 1
#define X_LEASES 2
#define X_KEEP 3
#define TIMERS_MAX 16

 /*
   The broker. Every slot of every pool has a helper process that owns
   the resource; holdingpend only passes the helper's fd on to a client
   and watches the client's connection, which is the lease. Nothing here
   ever blocks: helpers and clients are non-blocking sockets in one
   iopause loop, and a client that misbehaves is answered and dropped.
   This file is the loop; doc/holdingpend-inside.html says what the
   others do.
*/

struct global_s g = GLOBAL_ZERO ;

/*
   Room in the iopause arrays for everything that can be polled at once:
   the fixed entries, every connection, every slot's helper. Made when
   slots are made (slot_room), so that preparing a turn never allocates.
*/
int loop_room (uint32_t nslots)
{
  size_t n = X_KEEP + 1 + (size_t)g.maxconn + nslots ;
  return genalloc_ready(iopause_fd, &g.x, n) && genalloc_ready(uint32_t, &g.xwho, n) ;
}

static void x_add (int fd, short events, uint32_t who)
{
  iopause_fd x = { .fd = fd, .events = events, .revents = 0 } ;
   /* there is room for all (loop_room): a full array is a bug, not a shortage */
  if (!genalloc_append(iopause_fd, &g.x, &x) || !genalloc_append(uint32_t, &g.xwho, &who))
  {
#ifdef HP_TREE_CHECKS
    strerr_dief1x(111, "the iopause array is full") ;
#else
    if (g.verbosity) strerr_warnw1x("the iopause array is full: an fd is not polled this turn") ;
    genalloc_setlen(iopause_fd, &g.x, genalloc_len(uint32_t, &g.xwho)) ;
#endif
  }
}

 /*
   Every helper talks at once at start-up, each conversation with its
   buffers: freed when the slots are ready, they leave holes in the heap
   that glibc keeps dirty. So does a burst of claims, whose buffers go
   with their connections. Hand them back once the burst is over: at
   readiness, and a second after the last connection went, when none is
   in conversation (a busy broker does not pay for it claim by claim).
*/
static void release_memory (void)
{
#ifdef __GLIBC__
  malloc_trim(0) ;
#endif
  g.trimwanted = 0 ;
}

static void trim_when_idle (tain *deadline)
{
  if (!g.trimwanted || g.exiting) return ;
  if (tain_future(&g.trimat))
  {
    if (tain_less(&g.trimat, deadline)) *deadline = g.trimat ;
  }
  else if (!g.active.n) release_memory() ;
}

 /* Only what can speak is polled: clients in conversation, helpers that owe an answer. */
static void prepare (tain *deadline)
{
  genalloc_setlen(iopause_fd, &g.x, 0) ;
  genalloc_setlen(uint32_t, &g.xwho, 0) ;
  x_add(g.spfd, IOPAUSE_READ, 0) ;
  x_add(0, !g.exiting && !g.acceptblocked && NCLIENTS() < g.maxconn ? IOPAUSE_READ : 0, 0) ;
  x_add(g.epfd, g.exiting ? 0 : IOPAUSE_READ, 0) ;
  x_add(keep_fd(), keep_events(), TIMER_KEEP) ;
  for (uint32_t i = g.active.head ; i != ILIST_NONE ;)
  {
    client *c = CLIENT(i) ;
    uint32_t next = c->alink.next ;
     /* it may go quiet, and leave the list */
    short events = client_events(c) ;
    if (g.exiting) events &= IOPAUSE_WRITE ;
    if (events) x_add(client_fd(c), events, i) ;
    i = next ;
  }
  if (!g.exiting)
    for (uint32_t i = g.talking.head ; i != ILIST_NONE ; i = slot_of_index(i)->tlink.next)
    {
      slot *s = slot_of_index(i) ;
      x_add(s->helperfd, IOPAUSE_READ | (unixmessage_sender_isempty(&s->helper->out) ? 0 : IOPAUSE_WRITE), TIMER_SLOT | s->index) ;
    }
  if (g.exiting) *deadline = g.lameduck ;
  else if (!timer_next(deadline)) *deadline = tain_infinite ;
  if (g.notif >= 0 && tain_less(&g.readydeadline, deadline)) *deadline = g.readydeadline ;
  trim_when_idle(deadline) ;
}

 /* At most TIMERS_MAX a turn: a thousand helpers due at once are spawned over several turns, the clients served between. */
static void handle_timers (void)
{
  uint32_t id ;
  for (unsigned int n = 0 ; n < TIMERS_MAX && timer_due(&id) ; n++)
  {
    if (id == TIMER_KEEP) keep_timer() ;
    else if (id & TIMER_SLOT)
    {
      slot *s = slot_of_index(id & ~TIMER_SLOT) ;
      if (s && !s->pid && (s->state == SLOT_DOWN || s->adopt >= 0)) slot_spawn(s) ;
    }
    else client_timeout(CLIENT(id)) ;
  }
}

static void handle_leases (void)
{
  struct epoll_event ev[64] ;
  int n = epoll_wait(g.epfd, ev, 64, 0) ;
  for (int i = 0 ; i < n ; i++)
  {
    uint32_t u = ev[i].data.u32 ;
    client *c ;
    if (u & WATCH_HELPER)
    {
      helper_wake(slot_of_index(u & ~WATCH_HELPER)) ;
      continue ;
    }
    c = CLIENT(u & ~WATCH_PIDFD) ;
    if (u & WATCH_PIDFD) { if (c->pidwatched) lease_holder_gone(c) ; }
    else if (c->state == CLIENT_HOLDING && c->watched) client_read(c) ;
  }
}

static void handle_io (void)
{
  iopause_fd const *x = genalloc_s(iopause_fd, &g.x) ;
  uint32_t const *who = genalloc_s(uint32_t, &g.xwho) ;
  size_t n = genalloc_len(iopause_fd, &g.x) ;
  if (x[X_LEASES].revents & IOPAUSE_READ) handle_leases() ;
  if (x[X_KEEP].revents) keep_io(x[X_KEEP].revents) ;
  for (size_t i = X_KEEP + 1 ; i < n ; i++)
  {
    if (!x[i].revents) continue ;
    if (who[i] & TIMER_SLOT)
    {
      slot *s = slot_of_index(who[i] & ~TIMER_SLOT) ;
      if (s->helperfd != x[i].fd || s->state == SLOT_GONE) continue ;
      if (x[i].revents & IOPAUSE_WRITE) helper_write(s) ;
      if (s->helper && x[i].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) helper_read(s) ;
    }
    else
    {
      client *c = CLIENT(who[i]) ;
       /* it may have ended earlier in this turn */
      if (c->state == CLIENT_FREE || client_fd(c) != x[i].fd) continue ;
      if (x[i].revents & IOPAUSE_WRITE) client_write(c) ;
      if (g.exiting || c->state == CLIENT_FREE || c->state == CLIENT_CLOSING || !c->active) continue ;
      if (x[i].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) client_read(c) ;
    }
  }
}

static void stop_helpers (void)
{
  for (size_t i = 0 ; i < NPOOLS() ; i++)
  {
    pool *p = POOLS()[i] ;
    for (size_t j = 0 ; j < NSLOTS(p) ; j++) helper_stop(SLOTS(p)[j]) ;
  }
}

 /*
   SIGTERM: helpers go at once (their going must not wait for a slow
   client), and answers already queued get until the lame duck deadline
   to leave. Leases and waiting claims are not waited for: the holders
   keep their fds, and a waiter learns from the closed connection.
*/
static void exit_start (unsigned int lameducktimeout)
{
  g.exiting = 1 ;
  stop_helpers() ;
  deadline_in_ms(&g.lameduck, lameducktimeout) ;
}

static int exit_done (void)
{
  if (!tain_future(&g.lameduck)) return 1 ;
  for (uint32_t i = g.active.head ; i != ILIST_NONE ; i = CLIENT(i)->alink.next)
    if (!unixmessage_sender_isempty(&CLIENT(i)->out)) return 0 ;
  return 1 ;
}

static void handle_signals (unsigned int lameducktimeout)
{
  for (;;)
  {
    int sig = selfpipe_read() ;
    switch (sig)
    {
      case -1 : strerr_diefu1sys(111, "selfpipe_read") ;
      case 0 : return ;
      case SIGTERM :
      case SIGINT : if (!g.exiting) exit_start(lameducktimeout) ; break ;
      case SIGCHLD : helper_reap() ; break ;
      case SIGHUP :
      {
        stralloc err = STRALLOC_ZERO ;
        if (!g.exiting) pools_reload(&err) ;
        stralloc_free(&err) ;
        break ;
      }
      default : break ;
    }
  }
}

static void notify_ready (void)
{
  if (g.notif < 0) return ;
  if (g.unsettled)
  {
    if (tain_future(&g.readydeadline)) return ;
    log_short_pools() ;
  }
  if (fd_write(g.notif, "\n", 1) < 1 && g.verbosity) strerr_warnwu1sys("write the readiness notification") ;
  fd_close(g.notif) ;
  g.notif = -1 ;
  log_count("ready", "pools", NPOOLS()) ;
   /* whoever saw the notification may look for the line: it does not wait for the end of the turn */
  log_flush() ;
  release_memory() ;
}

static void configure_pools (void)
{
  stralloc err = STRALLOC_ZERO ;
   /* the rules too: start-up and reload share one path */
  int r = pools_configure(&err) ;
  if (r <= 0)
  {
    if (r < 0 && !err.len) strerr_diefu1sys(111, "read the configuration") ;
    if (!stralloc_0(&err)) strerr_diefu1sys(111, "read the rules and the pool directory") ;
    if (r < 0) strerr_dief1x(111, err.s) ;
    strerr_dief1x(100, err.s) ;
  }
  stralloc_free(&err) ;
}

 /*
   The client table is mapped, not calloc'd: its pages are zero and
   cost nothing until a connection uses them. glibc's calloc clears
   what it returns unless it comes from the top of a heap already set
   up, and this is the heap's first allocation: the whole table was
   written, 74 kB of the idle daemon's memory at the default -c.
*/
static void start_loop (void)
{
  void *p = mmap(0, g.maxconn * sizeof(client), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ;
  g.clients = p == MAP_FAILED ? 0 : p ;
  g.clientfree = alloc(g.maxconn * sizeof(uint32_t)) ;
  if (!g.clients || !g.clientfree || !loop_room(0)) strerr_diefu1sys(111, "allocate the client table") ;
  client_init() ;
  lease_init() ;
  timer_init() ;
  slot_init() ;
  g.epfd = epoll_create1(EPOLL_CLOEXEC) ;
  if (g.epfd < 0) strerr_diefu1sys(111, "create the epoll set") ;
  g.spfd = selfpipe_init() ;
  if (g.spfd < 0) strerr_diefu1sys(111, "selfpipe_init") ;
  if (!sig_ignore(SIGPIPE)) strerr_diefu1sys(111, "ignore SIGPIPE") ;
  {
    sigset_t set ;
    sigemptyset(&set) ;
    sigaddset(&set, SIGTERM) ;
    sigaddset(&set, SIGINT) ;
    sigaddset(&set, SIGHUP) ;
    sigaddset(&set, SIGCHLD) ;
    if (!selfpipe_trapset(&set)) strerr_diefu1sys(111, "trap signals") ;
  }
}

static void check_stdin (void)
{
  struct stat st ;
  if (fstat(0, &st) < 0) strerr_diefu1sys(111, "fstat stdin") ;
  if (!S_ISSOCK(st.st_mode)) strerr_dief1x(100, "stdin is not a socket") ;
  if (g.notif >= 0 && fcntl(g.notif, F_GETFD) < 0)
    strerr_dief1sys(100, "the notification fd is not open") ;
  if (g.notif != 1) fd_close(1) ;
   /* helpers inherit nothing of ours but their socket */
  if (coe(0) < 0 || (g.notif >= 0 && coe(g.notif) < 0) || ndelay_on(0) < 0)
    strerr_diefu1sys(111, "set flags on the listening socket") ;
}

int main (int argc, char const *const *argv, char const *const *envp)
{
  unsigned int timeout = 10000 ;
  unsigned int lameducktimeout = 0 ;
  unsigned int readytimeout = 0 ;
  int pooldir_given = 0 ;
  PROG = "holdingpend" ;
  log_init() ;
  g.envp = envp ;
  g.helper = HOLDINGPEN_LIBEXECPREFIX "holdingpen-helper" ;
  g.maxconn = MAXCONN_DEFAULT ;
  g.maxperuid = MAXPERUID_DEFAULT ;
  g.keepsecs = KEEPSECS_DEFAULT ;
  g.verbosity = 1 ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "v:1d:r:c:C:t:T:i:x:p:H:f:F:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'v' : if (!uint0_scan(l.arg, &g.verbosity)) dieusage() ; break ;
        case '1' : g.notif = 1 ; break ;
        case 'd' : { unsigned int u ; if (!uint0_scan(l.arg, &u) || u < 3) dieusage() ; g.notif = u ; break ; }
        case 'r' : if (!uint0_scan(l.arg, &readytimeout)) dieusage() ; break ;
        case 'c' : if (!uint0_scan(l.arg, &g.maxconn)) dieusage() ; break ;
        case 'C' : if (!uint0_scan(l.arg, &g.maxperuid)) dieusage() ; break ;
        case 't' : if (!uint0_scan(l.arg, &timeout)) dieusage() ; break ;
        case 'T' : if (!uint0_scan(l.arg, &lameducktimeout)) dieusage() ; break ;
        case 'i' : g.rules = l.arg ; g.rulestype = 1 ; break ;
        case 'x' : g.rules = l.arg ; g.rulestype = 2 ; break ;
        case 'p' : g.pooldir = l.arg ; pooldir_given = 1 ; break ;
        case 'H' : g.helper = l.arg ; break ;
        case 'f' : g.keeppath = l.arg ; break ;
        case 'F' : if (!uint0_scan(l.arg, &g.keepsecs) || !g.keepsecs) dieusage() ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ;
  }
  if (argc) dieusage() ;
  if (!g.maxconn) g.maxconn = 1 ;
  if (g.maxconn > MAXCONN_MAX) g.maxconn = MAXCONN_MAX ;
   /* a small maxconn keeps a quarter for administration, at most RESERVE_ADMIN */
  g.reserve = g.maxconn / 4 < RESERVE_ADMIN ? g.maxconn / 4 : RESERVE_ADMIN ;
  if (timeout) tain_from_millisecs(&g.answertto, timeout) ;
  else g.answertto = tain_infinite_relative ;
  g.myuid = getuid() ;
  check_stdin() ;
  if (!pooldir_given && access(HOLDINGPEN_DEFAULT_POOLDIR, F_OK) == 0) g.pooldir = HOLDINGPEN_DEFAULT_POOLDIR ;

  tain_now_set_stopwatch_g() ;
  g.start = STAMP ;
  if (readytimeout) deadline_in_ms(&g.readydeadline, readytimeout) ;
  else g.readydeadline = tain_infinite ;
  start_loop() ;
  configure_pools() ;
  log_start(g.pooldir) ;
  keep_init() ;
  keep_restore() ;
  pools_spawn_helpers() ;

  for (;;)
  {
    tain deadline ;
    iopause_fd const *x ;
    int r ;
    if (!g.exiting) notify_ready() ;
    else if (!lameducktimeout || exit_done()) break ;
    prepare(&deadline) ;
     /* the turn's answers have left: now its log lines, in one write */
    log_flush() ;
    x = genalloc_s(iopause_fd, &g.x) ;
    r = iopause_g(genalloc_s(iopause_fd, &g.x), genalloc_len(iopause_fd, &g.x), &deadline) ;
    if (r < 0)
    {
      if (errno != ENOMEM) strerr_diefu1sys(111, "iopause") ;
       /* the kernel could not allocate poll's tables: try again in a moment, rather than spin */
      if (g.verbosity) strerr_warnwu1sys("iopause") ;
      nanosleep(&(struct timespec){ .tv_sec = 0, .tv_nsec = 10000000 }, 0) ;
      tain_now_g() ;
      continue ;
    }
    x = genalloc_s(iopause_fd, &g.x) ;
    if (x[X_SELFPIPE].revents & IOPAUSE_READ) handle_signals(lameducktimeout) ;
    if (!g.exiting) handle_timers() ;
    if (r) handle_io() ;
    if (!g.exiting && x[X_LISTEN].revents & IOPAUSE_READ) client_accept() ;
    slot_collect() ;
    pool_collect() ;
  }
  keep_exit() ;
  log_count("exit", 0, 0) ;
  log_flush() ;
  return 0 ;
}
