/* ISC license. */

/* hp-probe-siglog: a process that says which signals it got.
     hp-probe-siglog LOGFILE SECS [holder]
   Catches every signal that can be caught (SIGKILL and SIGSTOP cannot:
   a death is seen by whoever waits for it, a stop by the SIGCONT that
   follows it) and appends, one write each, times in milliseconds of the
   system clock:
     start PID TIME                        as soon as it runs
     sig NAME TIME                         each signal that came
     end PID TIME                          SECS later, when it exits
   With holder, run under holdingpen-claim, it is a lease's holder too:
     grant LEASE PID INODE TIME            its slot, by the inode of HOLDINGPEN_FD
     dirty LEASE OFFSET                    the slot was not all zeros
     lost LEASE                            its token was overwritten
   It checks that the slot is all zeros, writes its token at both ends,
   and checks the token at every signal and before it exits. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/mman.h>
#include <fcntl.h>
#include <signal.h>
#include "hp-probe.h"

#define PROG "hp-probe-siglog"
#define USAGE "hp-probe-siglog logfile secs [holder]"

static int rec = -1 ;
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

static void catch (int sig)
{
  got[sig] = 1 ;
}

static char const *signame (int sig)
{
  switch (sig)
  {
    case SIGHUP : return "HUP" ;
    case SIGINT : return "INT" ;
    case SIGQUIT : return "QUIT" ;
    case SIGTERM : return "TERM" ;
    case SIGCONT : return "CONT" ;
    case SIGUSR1 : return "USR1" ;
    case SIGUSR2 : return "USR2" ;
    case SIGALRM : return "ALRM" ;
    case SIGTSTP : return "TSTP" ;
    case SIGPIPE : return "PIPE" ;
    case SIGCHLD : return "CHLD" ;
    default : return "OTHER" ;
  }
}

int main (int argc, char const *const *argv)
{
  unsigned long long secs, lease = 0 ;
  unsigned char *p = 0 ;
  size_t size = 0, len = 0 ;
  char tok[128] ;
  long long until ;
  sigset_t none, all ;
  if (argc < 3 || argc > 4 || !hp_scan_ull(argv[2], &secs) || (argc == 4 && strcmp(argv[3], "holder")))
    hp_dieusage(PROG, USAGE) ;
  rec = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) ;
  if (rec < 0) hp_die(111, PROG, "open the record file") ;
  sigfillset(&all) ;
  sigemptyset(&none) ;
  sigprocmask(SIG_BLOCK, &all, 0) ;
  for (int sig = 1 ; sig < 32 ; sig++)
  {
    struct sigaction sa ;
    if (sig == SIGKILL || sig == SIGSTOP) continue ;
    memset(&sa, 0, sizeof(sa)) ;
    sa.sa_handler = &catch ;
    sigfillset(&sa.sa_mask) ;
    sigaction(sig, &sa, 0) ;
  }
  record("start %d %lld\n", (int)getpid(), wall_ms()) ;
  if (argc == 4)
  {
    int fd = hp_env_fd(PROG, "HOLDINGPEN_FD") ;
    struct stat st ;
    lease = hp_env_ull(PROG, "HOLDINGPEN_LEASE") ;
    if (fstat(fd, &st) < 0) hp_die(111, PROG, "fstat the resource") ;
    record("grant %llu %d %llu %lld\n", lease, (int)getpid(), (unsigned long long)st.st_ino, wall_ms()) ;
    size = (size_t)st.st_size ;
    p = hp_map(PROG, fd, size, PROT_READ | PROT_WRITE) ;
    for (size_t i = 0 ; i < size ; i++) if (p[i])
    {
      record("dirty %llu %zu\n", lease, i) ;
      break ;
    }
    len = (size_t)snprintf(tok, sizeof(tok), "siglog lease=%llu pid=%d;", lease, (int)getpid()) ;
    if (len >= sizeof(tok) || 2 * len > size) hp_die(111, PROG, "token too long for the slot") ;
    memcpy(p, tok, len) ;
    memcpy(p + size - len, tok, len) ;
  }
  until = wall_ms() + (long long)secs * 1000 ;
  for (;;)
  {
    struct timespec ts ;
    long long left = until - wall_ms() ;
    if (left <= 0) break ;
    ts.tv_sec = (time_t)(left / 1000) ;
    ts.tv_nsec = (long)(left % 1000) * 1000000L ;
    sigprocmask(SIG_SETMASK, &none, 0) ;
    nanosleep(&ts, 0) ;
    sigprocmask(SIG_SETMASK, &all, 0) ;
    for (int sig = 1 ; sig < 32 ; sig++) if (got[sig])
    {
      got[sig] = 0 ;
      record("sig %s %lld\n", signame(sig), wall_ms()) ;
    }
    if (p && (memcmp(p, tok, len) || memcmp(p + size - len, tok, len))) { record("lost %llu\n", lease) ; p = 0 ; }
  }
  if (p && (memcmp(p, tok, len) || memcmp(p + size - len, tok, len))) record("lost %llu\n", lease) ;
  record("end %d %lld\n", (int)getpid(), wall_ms()) ;
  return 0 ;
}
