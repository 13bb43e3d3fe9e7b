/* ISC license. */

#include <errno.h>
#include <stdint.h>
#include <limits.h>
#include <sys/wait.h>

#include <skalibs/types.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/sig.h>
#include <skalibs/tai.h>

#include "holdingpend-internal.h"

 /*
   The transaction log: one line per event on stderr, key=value words,
   for s6-log. Every value is a number or a name checked on its way in
   (pool names, kinds, reasons), so no quoting is needed.

   Lines wait in buffer_2 and are written once per turn of the loop,
   after the turn's answers have left (log_flush, before iopause): a
   write per event, two before a claim's answer, was a good part of the
   claim's time. Nothing is lost or reordered on the way: a warning or a
   fatal error goes through buffer_2 too, after the lines waiting there;
   the exit flushes; and the log is flushed before a helper is started,
   told anything or stopped, so that what a helper writes to the same
   stderr comes after the events that led to it.
*/

static void put (char const *s)
{
  buffer_puts(buffer_2, s) ;
}

static void put_str (char const *key, char const *val)
{
  put(" ") ; put(key) ; put("=") ; put(val) ;
}

static void put_u64 (char const *key, uint64_t val)
{
  char fmt[UINT64_FMT] ;
  fmt[uint64_fmt(fmt, val)] = 0 ;
  put_str(key, fmt) ;
}

/*
   Writes carry whole lines only: buffer_2 writes itself out when full,
   wherever that falls, and a helper writes to the same stderr at any
   time, so a line cut in two could have a helper's line in its middle.
   So a line starts only where a whole one fits; the buffer is PIPE_BUF
   large (log_init), and a write of whole lines into a pipe is never
   mixed with another's.
*/
#define LOG_LINE_MAX 512

static char logbuf[PIPE_BUF + 1] ;

void log_init (void)
{
  buffer_init(buffer_2, &buffer_write, 2, logbuf, sizeof(logbuf)) ;
}

static int begin (char const *event)
{
  if (!g.verbosity) return 0 ;
  if (buffer_available(buffer_2) < LOG_LINE_MAX) buffer_flush(buffer_2) ;
  put(PROG) ; put(": info: event=") ; put(event) ;
  return 1 ;
}

static void end (void)
{
  buffer_put(buffer_2, "\n", 1) ;
}

 /* A full buffer_2 writes itself out; this writes the rest. */
void log_flush (void)
{
  buffer_flush(buffer_2) ;
}

static void put_who (client const *c)
{
  put_u64("uid", c->uid) ;
  put_u64("gid", c->gid) ;
  put_u64("pid", c->pid) ;
}

 /* claim, deny, leave, timeout, client-error: a client, maybe a pool, maybe a reason */
void log_client (char const *event, client const *c, char const *poolname, char const *reason)
{
  if (!begin(event)) return ;
  if (poolname) put_str("pool", poolname) ;
  put_who(c) ;
  if (reason) put_str("reason", reason) ;
  end() ;
}

void log_wait (client const *c)
{
  if (!begin("wait")) return ;
  put_str("pool", c->pool->conf.name) ;
  put_who(c) ;
  put_u64("seq", c->seq) ;
  end() ;
}

 /* deny, timeout: a refusal (refusal.c), of a pool or not */
void log_refusal (client const *c, char const *poolname, unsigned int why)
{
  log_client(refusals[why].event, c, poolname, refusals[why].reason) ;
}

 /* A lease's events, by enum lease_event_e, and what each says besides the pool, the lease and who. */
typedef struct leaseevent_s leaseevent, *leaseevent_ref ;
struct leaseevent_s
{
  char const *name ;
  unsigned int slot : 1 ;
  unsigned int age : 1 ;   /* at its end */
} ;

static leaseevent const lease_events[] =
{
  [LEASE_GRANT] = { .name = "grant", .slot = 1, .age = 0 },
  [LEASE_RELEASE] = { .name = "release", .slot = 1, .age = 1 },
  [LEASE_END] = { .name = "end", .slot = 1, .age = 1 },
  [LEASE_EXPIRE] = { .name = "expire", .slot = 0, .age = 0 },
  [LEASE_REVOKE] = { .name = "revoke", .slot = 0, .age = 0 },
  [LEASE_RESTORED] = { .name = "restored", .slot = 1, .age = 1 }
} ;

void log_lease (unsigned int event, client const *c)
{
  leaseevent const *e = lease_events + event ;
  if (!begin(e->name)) return ;
  put_str("pool", c->pool->conf.name) ;
  if (e->slot) put_u64("slot", c->slot->id) ;
  put_u64("lease", c->lease) ;
  put_who(c) ;
  if (e->age)
  {
    tain age ;
    tain_sub(&age, &STAMP, &c->since) ;
    put_u64("age", tai_sec(tain_secp(&age))) ;
  }
  end() ;
}

void log_kill (client const *c, int sig, int sent, int e)
{
  if (!begin("kill")) return ;
  put_str("pool", c->pool->conf.name) ;
  put_u64("lease", c->lease) ;
  put_u64("pid", c->pid) ;
  put_str("signal", sig_name(sig)) ;
  put_str("sent", sent ? "yes" : "no") ;
  if (!sent) put_str("error", e == EPERM ? "EPERM" : "other") ;
  end() ;
}

 /*
   kill, not sent: the holder is not its lease's uid's any more (setuid,
   with its real and saved uids), or its uids could not be read (unknown)
 */
void log_kill_refused (client const *c, int sig, uid_t const *uids)
{
  if (!begin("kill")) return ;
  put_str("pool", c->pool->conf.name) ;
  put_u64("lease", c->lease) ;
  put_u64("pid", c->pid) ;
  put_str("signal", sig_name(sig)) ;
  put_str("sent", "no") ;
  put_str("refused", uids ? "setuid" : "unknown") ;
  put_u64("uid", c->uid) ;
  if (uids)
  {
    put_u64("ruid", uids[0]) ;
    put_u64("suid", uids[2]) ;
  }
  end() ;
}

 /* helper-spawn, helper-ready, helper-short, helper-error */
void log_slot (char const *event, slot const *s)
{
  if (!begin(event)) return ;
  put_str("pool", s->pool->conf.name) ;
  put_u64("slot", s->id) ;
  if (s->pid) put_u64("helper", s->pid) ;
  end() ;
}

void log_helper_death (slot const *s, int failed, int wstat)
{
  if (!begin(failed ? "helper-failed" : "helper-crash")) return ;
  put_str("pool", s->pool->conf.name) ;
  put_u64("slot", s->id) ;
  put_u64("helper", s->pid) ;
  put_str("state", slot_state_names[s->state]) ;
  if (WIFSIGNALED(wstat)) put_str("signal", sig_name(WTERMSIG(wstat))) ;
  else put_u64("exitcode", WEXITSTATUS(wstat)) ;
  end() ;
}

 /* start, ready, reload, exit: the daemon itself */
void log_count (char const *event, char const *key, uint64_t n)
{
  if (!begin(event)) return ;
  if (key) put_u64(key, n) ;
  end() ;
}

void log_start (char const *pooldir)
{
  if (!begin("start")) return ;
  put_u64("pools", NPOOLS()) ;
  put_str("pooldir", pooldir ? pooldir : "(embedded)") ;
  end() ;
}

void log_reload_refused (stralloc *err)
{
  if (!begin("reload")) return ;
  put_str("result", "refused") ;
  end() ;
  if (err->len && g.verbosity && stralloc_0(err))
  {
    err->len-- ;
    strerr_warnw2x("reload refused, keeping the old configuration: ", err->s) ;
  }
}

 /* a pool's short slots say why; "preparing" if none has said yet */
static char const *short_reason (pool const *p)
{
  for (size_t i = 0 ; i < NSLOTS(p) ; i++)
  {
    slot const *s = SLOTS(p)[i] ;
    if (s->isshort) return s->shortwhy[0] ? s->shortwhy : "short" ;
  }
  return "preparing" ;
}

static void log_short (pool const *p, unsigned int n)
{
  if (!begin("ready-short")) return ;
  put_str("pool", p->conf.name) ;
  put_u64("short", n) ;
  put_u64("count", p->conf.count) ;
  put_str("reason", short_reason(p)) ;
  end() ;
}

 /* At the readiness deadline, slots still short: one line per pool, saying how many and why. */
void log_short_pools (void)
{
  for (size_t i = 0 ; i < NPOOLS() ; i++)
  {
    pool *p = POOLS()[i] ;
    unsigned int n = 0 ;
    for (size_t j = 0 ; j < NSLOTS(p) ; j++) if (!SLOTS(p)[j]->settled) n++ ;
    if (n) log_short(p, n) ;
  }
}

void log_short_slot (slot const *s)
{
  if (!begin("helper-short")) return ;
  put_str("pool", s->pool->conf.name) ;
  put_u64("slot", s->id) ;
  if (s->pid) put_u64("helper", s->pid) ;
  if (s->shortwhy[0]) put_str("reason", s->shortwhy) ;
  end() ;
}

void log_leak (slot const *s, uint64_t lease, uint64_t bytes)
{
  if (!begin("leak")) return ;
  put_str("pool", s->pool->conf.name) ;
  put_u64("slot", s->id) ;
  put_u64("lease", lease) ;
  put_u64("bytes", bytes) ;
  end() ;
}

 /* what a previous holdingpend kept, taken back */
void log_restore (unsigned int leases, unsigned int slots, unsigned int dropped)
{
  if (!begin("restore")) return ;
  put_u64("leases", leases) ;
  put_u64("slots", slots) ;
  put_u64("dropped", dropped) ;
  end() ;
}

 /*
   nomem: a request refused for want of memory (answer 111): what it was
   (claim, status, revoke, reload; request if it could not even be read),
   and the pool it named if any
*/
void log_nomem (char const *what, client const *c, char const *poolname)
{
  if (!begin("nomem")) return ;
  put_str("request", what) ;
  if (poolname) put_str("pool", poolname) ;
  put_who(c) ;
  end() ;
}
