/* ISC license. */

#include <errno.h>

#include <skalibs/error.h>
#include <skalibs/iopause.h>
#include <skalibs/unixmessage.h>

#include <holdingpen/holdingpen.h>

 /* Synchronous claim: the answer code, or -1 with errno (ETIMEDOUT at the deadline). */

int holdingpen_claim (holdingpen *a, holdingpen_lease *lease, char const *pool, uint32_t millisecs, uint32_t flags, tain const *deadline, tain *stamp)
{
  if (!holdingpen_claim_send(a, pool, millisecs, flags)) return -1 ;
  if (!unixmessage_sender_timed_flush(&a->connection.out, deadline, stamp)) return -1 ;
  for (;;)
  {
    iopause_fd x = { .fd = holdingpen_fd(a), .events = IOPAUSE_READ } ;
    int r = holdingpen_claim_recv(a, lease) ;
    if (r >= 0) return r ;
    if (!error_isagain(errno)) return -1 ;
    r = iopause_stamp(&x, 1, deadline, stamp) ;
    if (r < 0) return -1 ;
    if (!r) return (errno = ETIMEDOUT, -1) ;
  }
}
