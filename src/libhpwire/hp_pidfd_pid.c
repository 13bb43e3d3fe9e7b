/* ISC license. */

#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include <skalibs/types.h>
#include <skalibs/djbunix.h>

#include "hpwire.h"

 /*
   The pid of a pidfd's process, as the kernel gives it (the pidfd's
   fdinfo), not one we were told: 1, or 0 and ESRCH if it has exited or
   is in a pid namespace we cannot see.
*/

int hp_pidfd_pid (int pidfd, pid_t *pid)
{
  char buf[1024] ;
  char file[sizeof("/proc/self/fdinfo/") + INT_FMT] = "/proc/self/fdinfo/" ;
  char const *p ;
  ssize_t r ;
  file[18 + int_fmt(file + 18, pidfd)] = 0 ;
  r = openreadnclose(file, buf, sizeof(buf) - 1) ;
  if (r < 0) return 0 ;
  buf[r] = 0 ;
  p = strstr(buf, "\nPid:") ;
  if (!p) return (errno = EINVAL, 0) ;
  p += 5 ;
  while (*p == ' ' || *p == '\t') p++ ;
   /* -1: it has exited; 0: it is in a pid namespace we cannot see */
  if (*p == '-' || !pid_scan(p, pid) || *pid <= 0) return (errno = ESRCH, 0) ;
  return 1 ;
}
