/* ISC license. */

#include <stdlib.h>
#include <string.h>

#include <skalibs/uint64.h>
#include <skalibs/sgetopt.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

#include <holdingpen/config.h>
#include <holdingpen/holdingpen.h>

#define USAGE "holdingpen-status [ -s socket ] [ -k | -m ] [ pool... ]"
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   The server speaks key=value records; -k prints them as they are, for
   scripts. The table is for people: one block of pools, then one of leases
   and waiters, each record's values in the columns of its kind. -k and
   -m ask for the counters record too; the table has no use for it.
 */

typedef struct column_s column, *column_ref ;
struct column_s
{
  char const *key ;
  char const *title ;
  unsigned int width ;
} ;

static column const poolcols[] =
{
  { "pool", "POOL", 16 }, { "kind", "KIND", 13 }, { "size", "SIZE", 12 }, { "count", "SLOTS", 6 },
  { "ready", "READY", 6 }, { "held", "HELD", 5 }, { "preparing", "PREP", 5 }, { "short", "SHORT", 6 },
  { "failed", "FAILED", 7 }, { "waiters", "WAITERS", 8 }, { 0, 0, 0 }
} ;

static column const leasecols[] =
{
  { "lease", "LEASE", 8 }, { "pool", "POOL", 16 }, { "slot", "SLOT", 5 }, { "uid", "UID", 7 },
  { "pid", "PID", 8 }, { "age", "AGE", 7 }, { "expires", "EXPIRES", 8 }, { 0, 0, 0 }
} ;

static column const waitercols[] =
{
  { "waiter", "WAITER", 8 }, { "pool", "POOL", 16 }, { "uid", "UID", 7 }, { "pid", "PID", 8 },
  { "waited", "WAITED", 7 }, { "deadline", "DEADLINE", 9 }, { 0, 0, 0 }
} ;

 /* The value of key in a record line (not null-terminated: length in *len). */
static char const *value (char const *line, size_t linelen, char const *key, size_t *len)
{
  size_t klen = strlen(key) ;
  char const *p = line ;
  char const *end = line + linelen ;
  while (p < end)
  {
    char const *w = p ;
    char const *sp = memchr(p, ' ', end - p) ;
    char const *wend = sp ? sp : end ;
    if ((size_t)(wend - w) > klen && !memcmp(w, key, klen) && w[klen] == '=')
    {
      *len = wend - w - klen - 1 ;
      return w + klen + 1 ;
    }
    p = wend + 1 ;
  }
  *len = 1 ;
  return "-" ;
}

static void put_cell (char const *s, size_t len, unsigned int width)
{
  if (buffer_put(buffer_1, s, len) < 0) strerr_diefu1sys(111, "write to stdout") ;
  for (size_t i = len ; i < width ; i++) buffer_put(buffer_1, " ", 1) ;
  if (len >= width) buffer_put(buffer_1, " ", 1) ;
}


 /*
   -m: the Prometheus text exposition format, for node_exporter's textfile
   collector. Every family is written whole (HELP, TYPE, then its samples:
   the format wants a family's samples together), so the records are
   scanned once per family. A record or a key that is missing (an older
   broker has no counters record) gives no sample rather than a made-up 0.
 */

static void out (char const *s, size_t len)
{
  if (buffer_put(buffer_1, s, len) < 0) strerr_diefu1sys(111, "write to stdout") ;
}

static void outs (char const *s)
{
  out(s, strlen(s)) ;
}

typedef struct family_s family_t ;
struct family_s
{
  char const *name ;
  char const *type ;
  char const *help ;
} ;

 /* The family whose HELP and TYPE lines wait for its first sample: a family with no sample is not written. */
static family_t pending = { 0, 0, 0 } ;

static void family (char const *name, char const *type, char const *help)
{
  pending.name = name ; pending.type = type ; pending.help = help ;
}

static void family_flush (void)
{
  if (!pending.name) return ;
  outs("# HELP ") ; outs(pending.name) ; outs(" ") ; outs(pending.help) ; outs("\n") ;
  outs("# TYPE ") ; outs(pending.name) ; outs(" ") ; outs(pending.type) ; outs("\n") ;
  pending.name = 0 ;
}

 /* A label value as the format wants it: backslash, double quote and newline escaped. */
static void out_labelvalue (char const *s, size_t len)
{
  for (size_t i = 0 ; i < len ; i++)
  {
    if (s[i] == '\\') out("\\\\", 2) ;
    else if (s[i] == '"') out("\\\"", 2) ;
    else if (s[i] == '\n') out("\\n", 2) ;
    else out(s + i, 1) ;
  }
}

static int isnumber (char const *s, size_t len)
{
  if (!len) return 0 ;
  for (size_t i = 0 ; i < len ; i++) if (s[i] < '0' || s[i] > '9') return 0 ;
  return 1 ;
}

 /*
   One sample: name{label="labelvalue",label2="value2"} v, where v is the
   key's value in the record line. label2 may be 0. Nothing if the value
   is not a number.
 */
static void sample (char const *name, char const *label, char const *lv, size_t lvlen, char const *label2, char const *lv2, char const *v, size_t vlen)
{
  if (!isnumber(v, vlen)) return ;
  family_flush() ;
  outs(name) ;
  if (label)
  {
    outs("{") ; outs(label) ; outs("=\"") ; out_labelvalue(lv, lvlen) ; outs("\"") ;
    if (label2) { outs(",") ; outs(label2) ; outs("=\"") ; out_labelvalue(lv2, strlen(lv2)) ; outs("\"") ; }
    outs("}") ;
  }
  outs(" ") ; out(v, vlen) ; outs("\n") ;
}

 /* The next line of the records that starts with "first=", or 0. */
static char const *next_record (char const **s, char const *end, char const *first, size_t *linelen)
{
  size_t flen = strlen(first) ;
  while (*s < end)
  {
    char const *line = *s ;
    char const *nl = memchr(line, '\n', end - line) ;
    size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line) ;
    *s = line + len + 1 ;
    if (len > flen && !memcmp(line, first, flen) && line[flen] == '=')
    {
      *linelen = len ;
      return line ;
    }
  }
  return 0 ;
}

typedef struct poolmetric_s poolmetric, *poolmetric_ref ;
struct poolmetric_s
{
  char const *name ;
  char const *help ;
  char const *key ;
} ;

static poolmetric const poolmetrics[] =
{
  { "holdingpen_waiters", "Claims waiting in the pool's queue.", "waiters" },
  { "holdingpen_slot_size_bytes", "Size of one slot of the pool, in bytes.", "size" },
  { "holdingpen_slots_configured", "Number of slots the pool is configured with (count).", "count" },
  { 0, 0, 0 }
} ;

 /*
   A status record counts a short slot both as preparing and as short;
   here every slot is in exactly one state, so that the states of a pool
   add up to its count: preparing is the status record's preparing minus
   short.
 */
static void slot_samples (char const *line, size_t linelen)
{
  static char const *const states[] = { "ready", "held", "preparing", "short", "failed", 0 } ;
  size_t namelen ;
  char const *name = value(line, linelen, "pool", &namelen) ;
  for (char const *const *st = states ; *st ; st++)
  {
    size_t vlen ;
    char const *v = value(line, linelen, *st, &vlen) ;
    char fmt[UINT64_FMT] ;
    if (!strcmp(*st, "preparing"))
    {
      uint64_t prep, nshort ;
      size_t slen ;
      char const *sh = value(line, linelen, "short", &slen) ;
      if (!isnumber(v, vlen) || !isnumber(sh, slen)
       || uint64_scan(v, &prep) != vlen || uint64_scan(sh, &nshort) != slen || nshort > prep) continue ;
      v = fmt ; vlen = uint64_fmt(fmt, prep - nshort) ;
    }
    sample("holdingpen_slots", "pool", name, namelen, "state", *st, v, vlen) ;
  }
}

typedef struct counter_s counter, *counter_ref ;
struct counter_s
{
  char const *name ;
  char const *type ;
  char const *help ;
  char const *label ;
  char const *const *labelvalues ;
  char const *const *keys ;
} ;

 /*
   The reasons are protocol.h's keys of the refusal counters, the ones
   holdingpend counts under: a reason added there is a label here, with
   no second list to keep. They are not guessed from the record, whose
   keys do not say which of them count refusals. A reason this client
   does not know (a newer broker's) gives no sample, as one the broker
   does not send (an older broker's).
 */
static char const *const reasons[] = { HOLDINGPEN_COUNTERS_REFUSED, 0 } ;
static char const *const results[] = { "ok", "failed", 0 } ;
static char const *const reloadkeys[] = { "reloads", "reloadfailures", 0 } ;
static char const *const k_uptime[] = { "uptime", 0 } ;
static char const *const k_granted[] = { "granted", 0 } ;
static char const *const k_expired[] = { "expired", 0 } ;
static char const *const k_revoked[] = { "revoked", 0 } ;
static char const *const k_signals[] = { "signals", 0 } ;
static char const *const k_crashes[] = { "helpercrashes", 0 } ;

static counter const counters[] =
{
  { "holdingpen_uptime_seconds", "gauge", "Seconds since the broker started.", 0, 0, k_uptime },
  { "holdingpen_claims_granted_total", "counter", "Claims granted since the broker started.", 0, 0, k_granted },
  { "holdingpen_claims_refused_total", "counter", "Claims refused since the broker started, by reason.", "reason", reasons, reasons },
  { "holdingpen_leases_expired_total", "counter", "Leases ended by their pool's expire time.", 0, 0, k_expired },
  { "holdingpen_leases_revoked_total", "counter", "Leases ended by an administrator's revoke.", 0, 0, k_revoked },
  { "holdingpen_kill_signals_total", "counter", "Signals of the careful kill sequence actually sent to holders.", 0, 0, k_signals },
  { "holdingpen_helper_crashes_total", "counter", "Helper processes that died and were respawned.", 0, 0, k_crashes },
  { "holdingpen_reloads_total", "counter", "Reloads of the rules and pools, applied (ok) or refused (failed).", "result", results, reloadkeys },
  { 0, 0, 0, 0, 0, 0 }
} ;

static void print_metrics (char const *s, size_t len)
{
  char const *end = s + len ;
  char const *p, *line ;
  size_t linelen ;
  family("holdingpen_slots", "gauge", "Slots of the pool in each state; the states of a pool add up to its configured count.") ;
  for (p = s ; (line = next_record(&p, end, "pool", &linelen)) ; ) slot_samples(line, linelen) ;
  for (poolmetric const *m = poolmetrics ; m->name ; m++)
  {
    family(m->name, "gauge", m->help) ;
    for (p = s ; (line = next_record(&p, end, "pool", &linelen)) ; )
    {
      size_t namelen, vlen ;
      char const *name = value(line, linelen, "pool", &namelen) ;
      char const *v = value(line, linelen, m->key, &vlen) ;
      sample(m->name, "pool", name, namelen, 0, 0, v, vlen) ;
    }
  }
  p = s ;
  line = next_record(&p, end, "counters", &linelen) ;
  if (!line) return ;
  for (counter const *c = counters ; c->name ; c++)
  {
    family(c->name, c->type, c->help) ;
    for (unsigned int i = 0 ; c->keys[i] ; i++)
    {
      size_t vlen ;
      char const *v = value(line, linelen, c->keys[i], &vlen) ;
      if (c->label) sample(c->name, c->label, c->labelvalues[i], strlen(c->labelvalues[i]), 0, 0, v, vlen) ;
      else sample(c->name, 0, 0, 0, 0, 0, v, vlen) ;
    }
  }
}

static void print_table (char const *s, size_t len, char const *first, column const *cols)
{
  int header = 0 ;
  char const *end = s + len ;
  char const *line ;
  size_t linelen ;
  while ((line = next_record(&s, end, first, &linelen)))
  {
    if (!header)
    {
      for (column const *c = cols ; c->key ; c++) put_cell(c->title, strlen(c->title), c->width) ;
      buffer_put(buffer_1, "\n", 1) ;
      header = 1 ;
    }
    for (column const *c = cols ; c->key ; c++)
    {
      size_t vlen ;
      char const *v = value(line, linelen, c->key, &vlen) ;
      put_cell(v, vlen, c->width) ;
    }
    buffer_put(buffer_1, "\n", 1) ;
  }
  if (header) buffer_put(buffer_1, "\n", 1) ;
}

int main (int argc, char const *const *argv)
{
  holdingpen a = HOLDINGPEN_ZERO ;
  stralloc sa = STRALLOC_ZERO ;
  char const *path = getenv("HOLDINGPEN_SOCKET") ;
  char mode = 't' ;
  unsigned char what = HOLDINGPEN_STATUS_ALL ;
  tain deadline ;
  int r ;
  PROG = "holdingpen-status" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "s:km", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 's' : path = l.arg ; break ;
        case 'k' : mode = 'k' ; what = HOLDINGPEN_STATUS_COUNTERS ; break ;
        case 'm' : mode = 'm' ; what = HOLDINGPEN_STATUS_COUNTERS ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (!path || !*path) path = HOLDINGPEN_DEFAULT_SOCKET ;
  for (int i = 0 ; i < argc ; i++)
    if (!*argv[i] || strlen(argv[i]) > HOLDINGPEN_POOLNAME_MAX) strerr_dief2x(100, "invalid pool name: ", argv[i]) ;

  tain_now_set_stopwatch_g() ;
  tain_addsec_g(&deadline, 10) ;
  if (!holdingpen_start_g(&a, path, &deadline)) strerr_diefu2sys(111, "connect to holdingpend at ", path) ;
  r = holdingpen_status_ask_g(&a, &sa, what, argv, (unsigned int)argc, &deadline) ;

   /*
     A broker 0.1 or 0.2 refuses any flag with 100 and closes: ask it
     again for its plain records, which from 0.2 include the counters
     anyway. A request the broker refuses for another reason is
     refused again, and said below.
   */
  if (r == HOLDINGPEN_BADREQUEST && what)
  {
    holdingpen_end(&a) ;
    sa.len = 0 ;
    if (!holdingpen_start_g(&a, path, &deadline)) strerr_diefu2sys(111, "connect to holdingpend at ", path) ;
    r = holdingpen_status_g(&a, &sa, argv, (unsigned int)argc, &deadline) ;
  }
  if (r < 0) strerr_diefu1sys(111, "get the status") ;
  if (r == HOLDINGPEN_NOENT) strerr_dief1x(2, "no such pool") ;
  if (r) strerr_dief2x(r == HOLDINGPEN_DENIED ? 1 : 111, "status refused: ", holdingpen_code_str(r)) ;
  holdingpen_end(&a) ;
  if (mode == 'k')
  {
    if (buffer_putflush(buffer_1, sa.s, sa.len) < 0) strerr_diefu1sys(111, "write to stdout") ;
  }
  else if (mode == 'm')
  {
    print_metrics(sa.s, sa.len) ;
    if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  }
  else
  {
    print_table(sa.s, sa.len, "pool", poolcols) ;
    print_table(sa.s, sa.len, "lease", leasecols) ;
    print_table(sa.s, sa.len, "waiter", waitercols) ;
    if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  }
  stralloc_free(&sa) ;
  return 0 ;
}
