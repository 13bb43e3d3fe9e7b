/* ISC license. */

/* hp-probe-eof helper kind size [ eof | reset | send ]
   Runs a holdingpen-helper alone on a socketpair, as holdingpend would,
   waits for its first message (it has reserved), then closes our end of
   the socket: the way holdingpend going away looks to a helper.
     eof (default): the message is read first; the helper reads end of file.
     reset: the message is left unread; closing a Unix socket with unread
       data makes the helper's next read fail with ECONNRESET.
     send: the message is read, "e" (scrub and reserve again) is sent, and
       the socket closed at once: the helper reads the command, then its
       next "r" meets a closed socket (EPIPE), a ready message that
       holdingpend will never read.
   Prints "exit=N" (or "signal=N") and "stderr=quiet" or "stderr=said",
   since a helper whose master is gone must exit 0 and say nothing. */

#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <poll.h>

#include "hp-probe.h"

int main (int argc, char **argv)
{
  int sv[2], errpipe[2] ;
  char buf[4096] ;
  ssize_t r ;
  size_t said = 0 ;
  int wstat ;
  pid_t pid ;
  char const *mode = argc == 5 ? argv[4] : "eof" ;
  if ((argc != 4 && argc != 5) || (strcmp(mode, "eof") && strcmp(mode, "reset") && strcmp(mode, "send")))
  {
    fprintf(stderr, "usage: hp-probe-eof helper kind size [ eof | reset | send ]\n") ;
    return 100 ;
  }
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || pipe(errpipe) < 0) hp_die(111, "hp-probe-eof", "socketpair") ;
  pid = fork() ;
  if (pid < 0) hp_die(111, "hp-probe-eof", "fork") ;
  if (!pid)
  {
    char *args[] = { argv[1], "-p", "eof", argv[2], argv[3], 0 } ;
    dup2(sv[1], 1) ;
    dup2(errpipe[1], 2) ;
    close(sv[0]) ; close(sv[1]) ; close(errpipe[0]) ; close(errpipe[1]) ;
    execv(argv[1], args) ;
    _exit(127) ;
  }
  close(sv[1]) ;
  close(errpipe[1]) ;
   /* the helper's first message: it has reserved (header + 'r') */
  if (!strcmp(mode, "reset"))
  {
    struct pollfd p = { .fd = sv[0], .events = POLLIN } ;
    if (poll(&p, 1, 60000) != 1) hp_die(111, "hp-probe-eof", "wait for the helper's first message") ;
  }
  else
  {
    r = read(sv[0], buf, sizeof(buf)) ;
    if (r <= 0) hp_die(111, "hp-probe-eof", "read the helper's first message") ;
  }
  if (!strcmp(mode, "send"))
  {
     /* a skalibs unixmessage: length:u32 nfds:u16, big-endian, then the payload */
    static char const e[7] = { 0, 0, 0, 1, 0, 0, 'e' } ;
    if (write(sv[0], e, sizeof(e)) != (ssize_t)sizeof(e)) hp_die(111, "hp-probe-eof", "send e") ;
  }
  close(sv[0]) ;
  for (;;)
  {
    r = read(errpipe[0], buf, sizeof(buf)) ;
    if (r <= 0) break ;
     /* the OOM-score warning is about this machine, not about the exit */
    if (!memmem(buf, (size_t)r, "oom_score_adj", 13)) said += (size_t)r ;
  }
  if (waitpid(pid, &wstat, 0) < 0) hp_die(111, "hp-probe-eof", "waitpid") ;
  if (WIFEXITED(wstat)) printf("exit=%d\n", WEXITSTATUS(wstat)) ;
  else printf("signal=%d\n", WTERMSIG(wstat)) ;
  printf("stderr=%s\n", said ? "said" : "quiet") ;
  return 0 ;
}
