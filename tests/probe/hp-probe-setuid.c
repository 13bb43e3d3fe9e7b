/* ISC license. */

/* hp-probe-setuid -c
   hp-probe-setuid file
   A holder that becomes root's. A test installs a copy of it set-uid root
   (chowned root, mode 4755) and runs it as another user under
   holdingpen-claim: it makes its real and saved uids 0 too (setresuid), so
   that the user who started it may no longer signal it (kill(2) wants the
   sender's uid to be the target's real or saved one). -c: prints
   "uids=REAL EFFECTIVE SAVED" and exits. Otherwise it writes that line to
   file, then waits forever, appending to file the name of every CONT, INT,
   TERM and HUP it gets. Without the set-uid bit it exits 111. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <signal.h>
#include "hp-probe.h"

#define PROG "hp-probe-setuid"
#define USAGE "hp-probe-setuid -c | hp-probe-setuid file"

static int out = 1 ;

static void note (int sig)
{
  char const *s = sig == SIGCONT ? "CONT\n" : sig == SIGINT ? "INT\n" : sig == SIGTERM ? "TERM\n" : "HUP\n" ;
  int e = errno ;
  if (write(out, s, strlen(s)) < 0) _exit(111) ;
  errno = e ;
}

int main (int argc, char const *const *argv)
{
  static int const sigs[4] = { SIGCONT, SIGINT, SIGTERM, SIGHUP } ;
  uid_t r, e, s ;
  char line[80] ;
  int n ;
  if (argc < 2) hp_dieusage(PROG, USAGE) ;
  if (setresuid(0, 0, 0) < 0) hp_die(111, PROG, "setresuid(0, 0, 0) (is it set-uid root, on a filesystem without nosuid?)") ;
  if (getresuid(&r, &e, &s) < 0) hp_die(111, PROG, "getresuid") ;
  n = snprintf(line, sizeof(line), "uids=%u %u %u\n", (unsigned int)r, (unsigned int)e, (unsigned int)s) ;
  if (!strcmp(argv[1], "-c"))
  {
    fputs(line, stdout) ;
    return 0 ;
  }
  out = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) ;
  if (out < 0) hp_die(111, PROG, "open the report file") ;
  for (unsigned int i = 0 ; i < 4 ; i++)
  {
    struct sigaction sa ;
    memset(&sa, 0, sizeof(sa)) ;
    sa.sa_handler = &note ;
    sigemptyset(&sa.sa_mask) ;
    if (sigaction(sigs[i], &sa, 0) < 0) hp_die(111, PROG, "sigaction") ;
  }
  if (write(out, line, (size_t)n) < 0) hp_die(111, PROG, "write the report file") ;
  for (;;) pause() ;
}
