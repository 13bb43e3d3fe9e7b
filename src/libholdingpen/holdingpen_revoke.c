/* ISC license. */

#include <sys/uio.h>

#include <skalibs/uint64.h>

#include <holdingpen/holdingpen.h>
#include "holdingpen-internal.h"

int holdingpen_revoke (holdingpen *a, uint64_t id, tain const *deadline, tain *stamp)
{
  char pack[9] = "R" ;
  struct iovec v = { .iov_base = pack, .iov_len = 9 } ;
  uint64_pack_big(pack + 1, id) ;
  return holdingpen_transact(a, &v, 1, 0, deadline, stamp) ;
}
