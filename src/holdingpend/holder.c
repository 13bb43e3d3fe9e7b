/* ISC license. */

#include <errno.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/syscall.h>

#include "holdingpend-internal.h"

 /*
   The holder of a lease is known by a pidfd (hp_peer_pidfd, in
   libhpwire, says how it is obtained and proven): signals go through
   it, so they can never reach a process that took over the holder's pid.
*/

int holder_signal (int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, 0, 0) ;
#else
  (void)pidfd ; (void)sig ;
  return (errno = ENOSYS, -1) ;
#endif
}



 /*
   Whether root may still send sig to a lease's holder for its user.
   The kernel lets an unprivileged user signal a process whose real or
   saved uid is its own (kill(2)): a holder that has exec'd a set-uid
   program since it connected may be root's now, and root must not do
   for the user what the kernel would refuse it. So before each signal
   the holder's uids are read again, through its pidfd. A lease of uid
   0 is exempt: root may signal anything itself. 1: it may; 0: it may
   not, or the holder is gone; a refusal is logged.
*/

int holder_may_signal (client const *c, int sig)
{
  uid_t u[4] ;
  if (!c->uid) return 1 ;
  if (!hp_pidfd_uids(c->pidfd, u))
  {
    if (errno != ESRCH) log_kill_refused(c, sig, 0) ;
    return 0 ;
  }
  if (u[0] == c->uid || u[2] == c->uid) return 1 ;
  log_kill_refused(c, sig, u) ;
  return 0 ;
}
