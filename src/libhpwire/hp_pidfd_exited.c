/* ISC license. */

#include <poll.h>

#include "hpwire.h"

 /* A pidfd is readable once its process has exited, zombie or not. */

int hp_pidfd_exited (int pidfd)
{
  struct pollfd p = { .fd = pidfd, .events = POLLIN, .revents = 0 } ;
  return poll(&p, 1, 0) > 0 ;
}
