/* ISC license. */

#include <skalibs/stralloc.h>

#include <holdingpen/holdingpen.h>

 /* 0.1's records: pool=, lease=, waiter=. */

int holdingpen_status (holdingpen *a, stralloc *sa, char const *const *pools, unsigned int n, tain const *deadline, tain *stamp)
{
  return holdingpen_status_ask(a, sa, HOLDINGPEN_STATUS_ALL, pools, n, deadline, stamp) ;
}
