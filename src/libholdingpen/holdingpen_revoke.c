/* ISC license. */

#include <sys/uio.h>

#include <skalibs/uint64.h>

#include <holdingpen/holdingpen.h>
#include "holdingpen-internal.h"

int holdingpen_revoke (holdingpen *a, uint64_t id, tain const *deadline, tain *stamp)
{
  char pack[HOLDINGPEN_REVOKE_LEN] = { HOLDINGPEN_OP_REVOKE } ;
  struct iovec v = { .iov_base = pack, .iov_len = HOLDINGPEN_REVOKE_LEN } ;
  uint64_pack_big(pack + HOLDINGPEN_REVOKE_LEASE, id) ;
  return holdingpen_transact(a, &v, 1, 0, deadline, stamp) ;
}
