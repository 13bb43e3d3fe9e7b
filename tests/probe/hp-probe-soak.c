/* ISC license. */

/* hp-probe-soak: a holder of the soak (tests/89-soak.t), run under
   holdingpen-claim as
     hp-probe-soak RECFILE ID hold|kill|fork|stubborn MILLISECS
   It appends one line per event to RECFILE (O_APPEND, one write each, so
   that the holders of one claimant loop may share it), times in
   milliseconds of the system clock, the clock of "date +%s%3N":
     grant ID POOL LEASE PID TIME          as soon as it runs
     dirty ID POOL LEASE OFFSET            the slot was not all zeros
     lost ID POOL LEASE PID                its token was overwritten
     sig ID NAME TIME                      stubborn: CONT, INT or TERM came
     end ID POOL LEASE PID TIME            it leaves (fork: the child does)
   Every holder checks that the slot is all zeros, writes its token at both
   ends of the slot, and checks it is still there when it leaves.
     hold      holds MILLISECS, then exits 0
     kill      holds MILLISECS, then SIGKILLs itself (mid-lease)
     fork      a child keeps the lease and the resource MILLISECS after
               the parent has exited 0
     stubborn  ignores INT and TERM (records them) and holds until it is
               SIGKILLed: the lease's expiry must do it */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/mman.h>
#include <fcntl.h>
#include <signal.h>
#include "hp-probe.h"

#define PROG "hp-probe-soak"
#define USAGE "hp-probe-soak recfile id hold|kill|fork|stubborn millisecs (under holdingpen-claim)"

static int rec = -1 ;
static char const *id ;
static char const *pool ;
static unsigned long long lease ;
static volatile sig_atomic_t got[NSIG] ;

static long long wall_ms (void)
{
  struct timespec ts ;
  clock_gettime(CLOCK_REALTIME, &ts) ;
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 ;
}

static void record (char const *fmt, ...)
{
  char buf[512] ;
  va_list ap ;
  int n ;
  va_start(ap, fmt) ;
  n = vsnprintf(buf, sizeof(buf), fmt, ap) ;
  va_end(ap) ;
  if (n > 0 && (size_t)n < sizeof(buf)) (void)!write(rec, buf, (size_t)n) ;
}

static void check_token (unsigned char const *p, size_t size, char const *tok, size_t len)
{
  if (memcmp(p, tok, len) || memcmp(p + size - len, tok, len))
    record("lost %s %s %llu %d\n", id, pool, lease, (int)getpid()) ;
}

static void catch (int sig)
{
  got[sig] = 1 ;
}

int main (int argc, char const *const *argv)
{
  unsigned long long ms ;
  unsigned char *p ;
  size_t size ;
  char tok[128] ;
  size_t len ;
  int fd ;
  if (argc != 5 || !hp_scan_ull(argv[4], &ms)) hp_dieusage(PROG, USAGE) ;
  id = argv[2] ;
  rec = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) ;
  if (rec < 0) hp_die(111, PROG, "open the record file") ;
  pool = getenv("HOLDINGPEN_POOL") ;
  if (!pool) pool = "?" ;
  lease = hp_env_ull(PROG, "HOLDINGPEN_LEASE") ;
  fd = hp_env_fd(PROG, "HOLDINGPEN_FD") ;
  if (!strcmp(argv[3], "stubborn"))
  {
     /* before anything: the expiry may come at any time */
    struct sigaction sa ;
    memset(&sa, 0, sizeof(sa)) ;
    sa.sa_handler = &catch ;
    sigemptyset(&sa.sa_mask) ;
    sigaction(SIGINT, &sa, 0) ;
    sigaction(SIGTERM, &sa, 0) ;
    sigaction(SIGCONT, &sa, 0) ;
  }
  record("grant %s %s %llu %d %lld\n", id, pool, lease, (int)getpid(), wall_ms()) ;
  size = hp_fdsize(PROG, fd) ;
  p = hp_map(PROG, fd, size, PROT_READ | PROT_WRITE) ;
  for (size_t i = 0 ; i < size ; i++) if (p[i])
  {
    record("dirty %s %s %llu %zu\n", id, pool, lease, i) ;
    break ;
  }
  len = (size_t)snprintf(tok, sizeof(tok), "soak lease=%llu pid=%d id=%s;", lease, (int)getpid(), id) ;
  if (len >= sizeof(tok) || 2 * len > size) hp_die(111, PROG, "token too long for the slot") ;
  memcpy(p, tok, len) ;
  memcpy(p + size - len, tok, len) ;

  if (!strcmp(argv[3], "hold") || !strcmp(argv[3], "kill"))
  {
    hp_sleep_ms(ms) ;
    check_token(p, size, tok, len) ;
    if (argv[3][0] == 'k') raise(SIGKILL) ;
    record("end %s %s %llu %d %lld\n", id, pool, lease, (int)getpid(), wall_ms()) ;
    return 0 ;
  }
  if (!strcmp(argv[3], "fork"))
  {
    pid_t pid = fork() ;
    if (pid < 0) hp_die(111, PROG, "fork") ;
    if (pid) return 0 ;
    hp_sleep_ms(ms) ;
    check_token(p, size, tok, len) ;
    record("end %s %s %llu %d %lld\n", id, pool, lease, (int)getpid(), wall_ms()) ;
    return 0 ;
  }
  if (!strcmp(argv[3], "stubborn"))
  {
    static char const *const names[3] = { "CONT", "INT", "TERM" } ;
    int const sigs[3] = { SIGCONT, SIGINT, SIGTERM } ;
    long long const until = wall_ms() + 60000 ;
    while (wall_ms() < until)
    {
      pause() ;
      for (unsigned int i = 0 ; i < 3 ; i++) if (got[sigs[i]])
      {
        got[sigs[i]] = 0 ;
        record("sig %s %s %lld\n", id, names[i], wall_ms()) ;
      }
      check_token(p, size, tok, len) ;
    }
     /* not killed in a minute: the soak's own timeout is far shorter */
    record("end %s %s %llu %d %lld\n", id, pool, lease, (int)getpid(), wall_ms()) ;
    return 0 ;
  }
  hp_dieusage(PROG, USAGE) ;
}
