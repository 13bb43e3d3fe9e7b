/* ISC license. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/error.h>
#include <skalibs/iopause.h>
#include <skalibs/unixmessage.h>
#include <skalibs/djbunix.h>
#include <skalibs/exec.h>

#include <holdingpen/config.h>
#include <holdingpen/holdingpen.h>

#define USAGE "holdingpen-claim [ -s socket ] [ -t millisecs ] [ -n ] [ -q ] [ -d fd ] pool prog..."
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   The lease is the connection: it must survive the exec, so the program
   (and any child it lets inherit the fd) holds the slot for as long as it
   lives, and its death, however violent, gives the slot back.
 */

static void refused (int code, char const *pool, holdingpen_lease const *lease)
{
  if (code == HOLDINGPEN_TOOSOON)
  {
    char fmt[UINT32_FMT] ;
    fmt[uint32_fmt(fmt, lease->wait)] = 0 ;
    strerr_dief5x(code, "pool ", pool, ": too soon since this user's last claim: wait ", fmt, " more seconds") ;
  }
  strerr_dief4x(code, "pool ", pool, ": ", holdingpen_code_str(code)) ;
}

 /*
   A person who types "matlab" while the pool is busy would otherwise see
   nothing at all: after one second of waiting, say so, once, and only to
   a terminal (a script's stderr is a log, where the broker's own wait
   event already says it).
 */

static void say_waiting (char const *pool, uint32_t millisecs)
{
  if (millisecs == HOLDINGPEN_FOREVER)
    strerr_warni3x("waiting for a free slot of pool ", pool, " (no deadline)") ;
  else
  {
    char fmt[UINT32_FMT] ;
    uint32_t left = millisecs > 1000 ? millisecs - 1000 : 0 ;
     /* rounded up: "gives up in 0 seconds" would read as already over */
    uint32_t secs = left / 1000 + !!(left % 1000) ;
    fmt[uint32_fmt(fmt, secs)] = 0 ;
    strerr_warni5x("waiting for a free slot of pool ", pool, " (gives up in ", fmt, secs == 1 ? " second)" : " seconds)") ;
  }
}

 /*
   The waiting line is due one second after the claim started, whatever
   happens meanwhile: once printed, it is never printed again, not even
   when the claim is sent again to a restarted broker.
*/

typedef struct waitline_s waitline, *waitline_ref ;
struct waitline_s
{
  char const *pool ;
  uint32_t millisecs ;
  tain at ;
  int due ;
} ;

 /* iopause_g() until deadline, printing the waiting line when it is due on the way. */

static int pause_until (iopause_fd *x, unsigned int n, tain const *deadline, waitline *w)
{
  for (;;)
  {
    int early = w->due && tain_less(&w->at, deadline) ;
    int r = iopause_g(x, n, early ? &w->at : deadline) ;
    if (r || !early) return r ;
    say_waiting(w->pool, w->millisecs) ;
    w->due = 0 ;
  }
}

 /*
   One claim on one connection: the answer code, or -1 with errno
   (ETIMEDOUT at the deadline; EPIPE or ECONNRESET: the broker went away
   before it answered).
*/

static int claim (holdingpen *a, holdingpen_lease *lease, char const *pool, uint32_t millisecs, uint32_t flags, tain const *deadline, waitline *w)
{
  if (!holdingpen_claim_send(a, pool, millisecs, flags)) return -1 ;
  if (!unixmessage_sender_timed_flush_g(&a->connection.out, deadline)) return -1 ;
  for (;;)
  {
    iopause_fd x = { .fd = holdingpen_fd(a), .events = IOPAUSE_READ } ;
    int r = holdingpen_claim_recv(a, lease) ;
    if (r >= 0) return r ;
    if (!error_isagain(errno)) return -1 ;
    r = pause_until(&x, 1, deadline, w) ;
    if (r < 0) return -1 ;
    if (!r) return (errno = ETIMEDOUT, -1) ;
  }
}

 /*
   A broker that goes away while the claim waits (s6-svc -r, a crash, an
   upgrade) closes the connection without an answer. Its socket may then
   be missing or refuse connections until the next one has bound it:
   those errors mean "not back yet".
*/

static int gone (int e)
{
  return e == EPIPE || e == ECONNRESET ;
}

static int notback (int e)
{
  return e == ECONNREFUSED || e == ENOENT || e == ETIMEDOUT || error_isagain(e) ;
}

 /*
   Connects again, trying after 100 ms, then twice as long each time up
   to a second, until the claim's own deadline: 1, or 0 with errno
   (ETIMEDOUT at the deadline).
*/

static int reconnect (holdingpen *a, char const *path, tain const *until, waitline *w)
{
  tain pause, maxpause ;
  tain_from_millisecs(&pause, 100) ;
  tain_from_millisecs(&maxpause, 1000) ;
  for (;;)
  {
    tain next ;
    tain_add_g(&next, &pause) ;
    if (tain_less(until, &next)) next = *until ;
    if (pause_until(0, 0, &next, w) < 0) return 0 ;
    if (!tain_future(until)) return (errno = ETIMEDOUT, 0) ;
    if (holdingpen_start_g(a, path, until)) return 1 ;
    if (!notback(errno)) return 0 ;
    tain_add(&pause, &pause, &pause) ;
    if (tain_less(&maxpause, &pause)) pause = maxpause ;
  }
}

 /* Milliseconds left until the deadline, rounded down; 0 if it has passed. */

static uint32_t left (tain const *until)
{
  tain d ;
  uint64_t ms ;
  tain_now_g() ;
  if (!tain_future(until)) return 0 ;
  tain_sub(&d, until, &STAMP) ;
  ms = tai_sec(tain_secp(&d)) * 1000 + tain_nano(&d) / 1000000 ;
  return ms < HOLDINGPEN_FOREVER ? (uint32_t)ms : HOLDINGPEN_FOREVER - 1 ;
}

static void notintime (char const *pool)
{
  strerr_dief3x(99, "pool ", pool, ": no free slot before the deadline (the broker was not there in time)") ;
}

 /*
   Connects again until the claim's deadline and gives the milliseconds
   to claim with: the time left, or forever for a claim without one.
   Dies if the deadline passes first or if the error is not "not back".
*/

static uint32_t back (holdingpen *a, char const *path, tain const *until, waitline *w, char const *pool, uint32_t millisecs)
{
  uint32_t ms ;
  if (!reconnect(a, path, until, w))
  {
    if (errno == ETIMEDOUT) notintime(pool) ;
    strerr_diefu2sys(111, "connect again to holdingpend at ", path) ;
  }
  ms = millisecs == HOLDINGPEN_FOREVER ? HOLDINGPEN_FOREVER : left(until) ;
  if (!ms) notintime(pool) ;
  return ms ;
}

int main (int argc, char const *const *argv)
{
  holdingpen a = HOLDINGPEN_ZERO ;
  holdingpen_lease lease = HOLDINGPEN_LEASE_ZERO ;
  char const *path = getenv("HOLDINGPEN_SOCKET") ;
  uint32_t millisecs = HOLDINGPEN_FOREVER ;
  uint32_t flags = 0 ;
  int newfd = -1 ;
  int quiet = 0 ;
  int waits ;
  waitline w ;
  tain until, deadline ;
  int r ;
  PROG = "holdingpen-claim" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "s:t:nqd:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 's' : path = l.arg ; break ;
        case 't' : if (!uint320_scan(l.arg, &millisecs) || millisecs == HOLDINGPEN_FOREVER) dieusage() ; break ;
        case 'n' : flags |= HOLDINGPEN_CLAIM_NOWAIT ; break ;
        case 'q' : quiet = 1 ; break ;
        case 'd' : { unsigned int u ; if (!uint0_scan(l.arg, &u) || u > 1000000) dieusage() ; newfd = u ; break ; }
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (argc < 2) dieusage() ;
  if (!path || !*path) path = HOLDINGPEN_DEFAULT_SOCKET ;
  if (strlen(argv[0]) > HOLDINGPEN_POOLNAME_MAX) strerr_dief3x(100, "pool ", argv[0], ": name too long") ;

   /*
     until: the claim's own deadline, kept across a restart of the broker.
     deadline: ours while connected, only a guard against a broker that
     never answers; the broker keeps the real one.
   */
  tain_now_set_stopwatch_g() ;
  if (millisecs == HOLDINGPEN_FOREVER || (flags & HOLDINGPEN_CLAIM_NOWAIT))
  {
    tain_add_g(&until, &tain_infinite_relative) ;
    deadline = until ;
  }
  else
  {
    tain t ;
    tain_from_millisecs(&t, (int)(millisecs % 1000)) ;
    tain_addsec_g(&until, (int)(millisecs / 1000)) ;
    tain_add(&until, &until, &t) ;
    tain_addsec(&deadline, &until, 5) ;
  }
  waits = !(flags & HOLDINGPEN_CLAIM_NOWAIT) && millisecs ;
  w.pool = argv[0] ;
  w.millisecs = millisecs ;
  w.due = !quiet && !(flags & HOLDINGPEN_CLAIM_NOWAIT) && isatty(2) ;
  tain_addsec_g(&w.at, 1) ;
   /*
     Only a claim that waits outlives its broker: -n and -t 0 do not wait.
     A claim with a deadline also waits for a broker that is not there
     yet when it starts (its socket missing or refusing: a restart); one
     without a deadline does not, since a wrong socket would hold it
     forever without a word.
   */
  {
    tain cdeadline ;
    uint32_t ms = millisecs ;
    tain_addsec_g(&cdeadline, 10) ;
    if (!holdingpen_start_g(&a, path, &cdeadline))
    {
      if (!waits || millisecs == HOLDINGPEN_FOREVER || !notback(errno))
        strerr_diefu2sys(111, "connect to holdingpend at ", path) ;
      ms = back(&a, path, &until, &w, argv[0], millisecs) ;
    }
    r = claim(&a, &lease, argv[0], ms, flags, &deadline, &w) ;
  }
  while (r < 0 && gone(errno) && waits)
  {
    holdingpen_end(&a) ;
    r = claim(&a, &lease, argv[0], back(&a, path, &until, &w, argv[0], millisecs), flags, &deadline, &w) ;
  }
  if (r < 0)
  {
    if (errno == ETIMEDOUT) strerr_dief3x(99, "pool ", argv[0], ": the server did not answer in time") ;
    strerr_diefu3sys(111, "claim from pool ", argv[0], " (reading the answer)") ;
  }
  if (r) refused(r, argv[0], &lease) ;

  if (lease.fd >= 0)
  {
    if (newfd >= 0 && newfd != lease.fd)
    {
      if (newfd == lease.leasefd)
      {
        int fd = dup(lease.leasefd) ;
        if (fd < 0) strerr_diefu1sys(111, "dup the lease fd") ;
        fd_close(lease.leasefd) ;
        lease.leasefd = fd ;
      }
      if (fd_move(newfd, lease.fd) < 0) strerr_diefu1sys(111, "move the resource fd") ;
      lease.fd = newfd ;
    }
    if (uncoe(lease.fd) < 0) strerr_diefu1sys(111, "uncoe the resource fd") ;
  }
  if (uncoe(lease.leasefd) < 0 || ndelay_off(lease.leasefd) < 0)
    strerr_diefu1sys(111, "prepare the lease fd") ;

  {
    char modif[256] ;
    size_t m = 0 ;
    size_t n = 0 ;
#define ADDNUM(name, fmtfunc, val) do { memcpy(modif + m, name "=", sizeof(name)) ; m += sizeof(name) ; m += fmtfunc(modif + m, val) ; modif[m++] = 0 ; n++ ; } while (0)
    if (lease.fd >= 0) ADDNUM("HOLDINGPEN_FD", uint_fmt, (unsigned int)lease.fd) ;
    else { memcpy(modif + m, "HOLDINGPEN_FD", 14) ; m += 14 ; n++ ; }
    ADDNUM("HOLDINGPEN_LEASEFD", uint_fmt, (unsigned int)lease.leasefd) ;
    ADDNUM("HOLDINGPEN_SIZE", uint64_fmt, lease.size) ;
    ADDNUM("HOLDINGPEN_LEASE", uint64_fmt, lease.id) ;
#undef ADDNUM
    memcpy(modif + m, "HOLDINGPEN_KIND=", 16) ; m += 16 ;
    { size_t k = strlen(lease.kind) ; memcpy(modif + m, lease.kind, k + 1) ; m += k + 1 ; n++ ; }
    memcpy(modif + m, "HOLDINGPEN_POOL=", 16) ; m += 16 ;
    { size_t k = strlen(argv[0]) ; memcpy(modif + m, argv[0], k + 1) ; m += k + 1 ; n++ ; }
    xmexec_n(argv + 1, modif, m, n) ;
  }
}
