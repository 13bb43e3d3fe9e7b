/* ISC license. */

#include <errno.h>
#include <unistd.h>
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


