/* ISC license. */

#include <stdlib.h>
#include <string.h>

#include <skalibs/sgetopt.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

#include <holdingpen/config.h>
#include <holdingpen/holdingpen.h>

#define USAGE "holdingpen-status [ -s socket ] [ -k ] [ pool... ]"
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   The server speaks key=value records; -k prints them as they are, for
   scripts. The table is for people: one block of pools, then one of leases
   and waiters, each record's values in the columns of its kind.
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

static void print_table (char const *s, size_t len, char const *first, column const *cols)
{
  int header = 0 ;
  size_t flen = strlen(first) ;
  char const *end = s + len ;
  while (s < end)
  {
    char const *nl = memchr(s, '\n', end - s) ;
    size_t linelen = nl ? (size_t)(nl - s) : (size_t)(end - s) ;
    if (linelen > flen && !memcmp(s, first, flen) && s[flen] == '=')
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
        char const *v = value(s, linelen, c->key, &vlen) ;
        put_cell(v, vlen, c->width) ;
      }
      buffer_put(buffer_1, "\n", 1) ;
    }
    s += linelen + 1 ;
  }
  if (header) buffer_put(buffer_1, "\n", 1) ;
}

int main (int argc, char const *const *argv)
{
  holdingpen a = HOLDINGPEN_ZERO ;
  stralloc sa = STRALLOC_ZERO ;
  char const *path = getenv("HOLDINGPEN_SOCKET") ;
  int flagk = 0 ;
  tain deadline ;
  int r ;
  PROG = "holdingpen-status" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "s:k", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 's' : path = l.arg ; break ;
        case 'k' : flagk = 1 ; break ;
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
  r = holdingpen_status_g(&a, &sa, argv, (unsigned int)argc, &deadline) ;
  if (r < 0) strerr_diefu1sys(111, "get the status") ;
  if (r == HOLDINGPEN_NOENT) strerr_dief1x(2, "no such pool") ;
  if (r) strerr_dief2x(r == HOLDINGPEN_DENIED ? 1 : 111, "status refused: ", holdingpen_code_str(r)) ;
  holdingpen_end(&a) ;
  if (flagk)
  {
    if (buffer_putflush(buffer_1, sa.s, sa.len) < 0) strerr_diefu1sys(111, "write to stdout") ;
  }
  else
  {
    print_table(sa.s, sa.len, "pool", poolcols) ;
    print_table(sa.s, sa.len, "lease", leasecols) ;
    print_table(sa.s, sa.len, "waiter", waitercols) ;
    if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  }
  return 0 ;
}
