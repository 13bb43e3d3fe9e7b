/* ISC license. */

#include <string.h>
#include <sys/uio.h>

#include <skalibs/stralloc.h>

#include <holdingpen/holdingpen.h>
#include "holdingpen-internal.h"

 /*
   Appends the server's status records (key=value lines) to sa, with
   the records that the bits of what ask for beyond 0.1's; returns the
   answer code or -1. A server older than the bits answers 100 and
   closes the connection.
 */

int holdingpen_status_ask (holdingpen *a, stralloc *sa, unsigned char what, char const *const *pools, unsigned int n, tain const *deadline, tain *stamp)
{
  char head[HOLDINGPEN_STATUS_POOLS] = { HOLDINGPEN_OP_STATUS, (char)what } ;
  struct iovec v[1 + n] ;
  v[0].iov_base = head ; v[0].iov_len = HOLDINGPEN_STATUS_POOLS ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    v[1+i].iov_base = (char *)pools[i] ;
    v[1+i].iov_len = strlen(pools[i]) + 1 ;
  }
  return holdingpen_transact(a, v, 1 + n, sa, deadline, stamp) ;
}
