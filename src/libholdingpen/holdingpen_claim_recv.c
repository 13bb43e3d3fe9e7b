/* ISC license. */

#include <errno.h>
#include <string.h>

#include <skalibs/uint32.h>
#include <skalibs/uint64.h>
#include <skalibs/error.h>
#include <skalibs/djbunix.h>
#include <skalibs/unixmessage.h>

#include <holdingpen/holdingpen.h>

 /*
   Non-blocking: -1 with errno on error (EAGAIN: no answer yet), else the
   answer code. An iopause loop calls it when holdingpen_fd() is readable.
 */

static int refuse (unixmessage const *m)
{
  unixmessage_drop(m) ;
  return (errno = EPROTO, -1) ;
}

int holdingpen_claim_recv (holdingpen *a, holdingpen_lease *lease)
{
  unixmessage m ;
  int r = unixmessage_receive(&a->connection.in, &m) ;
  if (r < 0) return -1 ;
  if (!r) return (errno = EAGAIN, -1) ;
  if (!m.len) return refuse(&m) ;
  switch ((unsigned char)m.s[0])
  {
    case HOLDINGPEN_OK :
    {
      size_t kindlen ;
       /* the kind, with its null byte, is all that follows the two numbers */
      if (m.len < HOLDINGPEN_GRANT_KIND + 2 || m.s[m.len - 1] || m.nfds > 1) return refuse(&m) ;
      kindlen = m.len - HOLDINGPEN_GRANT_KIND ;
      if (kindlen > HOLDINGPEN_KIND_MAX + 1 || memchr(m.s + HOLDINGPEN_GRANT_KIND, 0, kindlen - 1)) return refuse(&m) ;
      uint64_unpack_big(m.s + HOLDINGPEN_GRANT_LEASE, &lease->id) ;
      uint64_unpack_big(m.s + HOLDINGPEN_GRANT_SIZE, &lease->size) ;
      memcpy(lease->kind, m.s + HOLDINGPEN_GRANT_KIND, kindlen) ;
      lease->fd = m.nfds ? m.fds[0] : -1 ;
      lease->leasefd = holdingpen_fd(a) ;
      return HOLDINGPEN_OK ;
    }
    case HOLDINGPEN_TOOSOON :
      if (m.len != HOLDINGPEN_TOOSOON_LEN || m.nfds) return refuse(&m) ;
      uint32_unpack_big(m.s + HOLDINGPEN_TOOSOON_WAIT, &lease->wait) ;
      return HOLDINGPEN_TOOSOON ;
    default :
      if (m.len != 1 || m.nfds) return refuse(&m) ;
      return (unsigned char)m.s[0] ;
  }
}
