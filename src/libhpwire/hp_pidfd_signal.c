/* ISC license. */

#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "hpwire.h"

 /*
   A signal through a pidfd can never reach a process that took over
   the pid since: 0, or -1 with errno (ESRCH: gone; ENOSYS: a kernel
   or libc without pidfd_send_signal).
*/

int hp_pidfd_signal (int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, 0, 0) ;
#else
  (void)pidfd ; (void)sig ;
  return (errno = ENOSYS, -1) ;
#endif
}
