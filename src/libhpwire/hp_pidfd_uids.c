/* ISC license. */

#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include <skalibs/types.h>
#include <skalibs/djbunix.h>

#include "hpwire.h"

 /*
   The uids of a pidfd's process, as /proc/PID/status says them (real,
   effective, saved, filesystem): its credentials now, not at connect
   time, for it may have exec'd a set-uid program since. The pid is
   the one the kernel gives for the pidfd (its fdinfo), not one we were
   told. A pid is not reused while its process, zombie or not, is
   there, and a pidfd is readable once it has exited: so the pidfd is
   looked at after /proc, and if its process is gone by then, what was
   read may be another's, and nothing is said (ESRCH).
 */

 /* What follows key (a line start and a name) in s, blanks skipped; 0 if none. */
static char const *after (char const *s, char const *key)
{
  char const *p = strstr(s, key) ;
  if (!p) return 0 ;
  p += strlen(key) ;
  while (*p == ' ' || *p == '\t') p++ ;
  return p ;
}

static ssize_t readproc (char const *file, char *buf, size_t max)
{
  ssize_t r = openreadnclose(file, buf, max - 1) ;
  if (r < 0) return r ;
  buf[r] = 0 ;
  return r ;
}

int hp_pidfd_uids (int pidfd, uid_t *uids)
{
  char buf[2048] ;
  char const *p ;
  pid_t pid ;
  if (!hp_pidfd_pid(pidfd, &pid)) return 0 ;
  {
    char file[sizeof("/proc//status") + PID_FMT] = "/proc/" ;
    size_t len = 6 + pid_fmt(file + 6, pid) ;
    memcpy(file + len, "/status", 8) ;
    if (readproc(file, buf, sizeof(buf)) < 0) return (errno = errno == ENOENT ? ESRCH : errno, 0) ;
  }
  p = after(buf, "\nUid:") ;
  if (!p) return (errno = EINVAL, 0) ;
  for (unsigned int i = 0 ; i < 4 ; i++)
  {
    size_t n = uid_scan(p, uids + i) ;
    if (!n) return (errno = EINVAL, 0) ;
    p += n ;
    while (*p == ' ' || *p == '\t') p++ ;
  }
  if (hp_pidfd_exited(pidfd)) return (errno = ESRCH, 0) ;
  return 1 ;
}
