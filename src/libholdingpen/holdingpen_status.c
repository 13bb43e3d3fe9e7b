/* ISC license. */

#include <string.h>
#include <sys/uio.h>

#include <skalibs/stralloc.h>

#include <holdingpen/holdingpen.h>
#include "holdingpen-internal.h"

 /* Appends the server's status records (key=value lines) to sa; returns the answer code or -1. */

int holdingpen_status (holdingpen *a, stralloc *sa, char const *const *pools, unsigned int n, tain const *deadline, tain *stamp)
{
  char head[HOLDINGPEN_STATUS_POOLS] = { HOLDINGPEN_OP_STATUS, HOLDINGPEN_STATUS_ALL } ;
  struct iovec v[1 + n] ;
  v[0].iov_base = head ; v[0].iov_len = HOLDINGPEN_STATUS_POOLS ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    v[1+i].iov_base = (char *)pools[i] ;
    v[1+i].iov_len = strlen(pools[i]) + 1 ;
  }
  return holdingpen_transact(a, v, 1 + n, sa, deadline, stamp) ;
}
