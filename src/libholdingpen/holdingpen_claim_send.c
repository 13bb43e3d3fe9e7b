/* ISC license. */

#include <errno.h>
#include <string.h>

#include <skalibs/uint32.h>
#include <skalibs/error.h>
#include <skalibs/unixmessage.h>

#include <holdingpen/holdingpen.h>

 /* Queues a claim and flushes what it can; 1 if queued, 0 on error. */

int holdingpen_claim_send (holdingpen *a, char const *pool, uint32_t millisecs, uint32_t flags)
{
  size_t len = strlen(pool) ;
  char pack[HOLDINGPEN_CLAIM_POOL] = { HOLDINGPEN_OP_CLAIM } ;
  struct iovec v[2] = { { .iov_base = pack, .iov_len = HOLDINGPEN_CLAIM_POOL }, { .iov_base = (char *)pool, .iov_len = len + 1 } } ;
  unixmessagev m = { .v = v, .vlen = 2, .fds = 0, .nfds = 0 } ;
  if (!len || len > HOLDINGPEN_POOLNAME_MAX) return (errno = EINVAL, 0) ;
  pack[HOLDINGPEN_CLAIM_FLAGS] = (char)(flags & HOLDINGPEN_CLAIM_NOWAIT) ;
  uint32_pack_big(pack + HOLDINGPEN_CLAIM_MILLISECS, millisecs) ;
  if (!unixmessage_putv(&a->connection.out, &m)) return 0 ;
  if (!unixmessage_sender_flush(&a->connection.out) && !error_isagain(errno)) return 0 ;
  return 1 ;
}
