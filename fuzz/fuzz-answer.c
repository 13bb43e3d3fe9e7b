/* ISC license. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include <skalibs/uint32.h>
#include <skalibs/uint16.h>
#include <skalibs/djbunix.h>
#include <skalibs/unixconnection.h>

#include <holdingpen/holdingpen.h>

 /*
   libFuzzer entry for the client side: whatever a server answers, framed
   as unixmessage, holdingpen_claim_recv returns a code or -1, never
   reads out of bounds, and a granted kind is a null-terminated string.
 */

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  int p[2] ;
  holdingpen a = HOLDINGPEN_ZERO ;
  holdingpen_lease lease = HOLDINGPEN_LEASE_ZERO ;
  char head[6] ;
  if (size > 60000) return 0 ;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p) < 0) abort() ;
  uint32_pack_big(head, (uint32_t)size) ;
  uint16_pack_big(head + 4, 0) ;
  if (write(p[1], head, 6) != 6) abort() ;
  if (size && write(p[1], data, size) != (ssize_t)size) abort() ;
  close(p[1]) ;
  unixconnection_init(&a.connection, p[0], p[0]) ;
  if (holdingpen_claim_recv(&a, &lease) == HOLDINGPEN_OK)
  {
    if (strlen(lease.kind) > HOLDINGPEN_KIND_MAX) abort() ;
    if (lease.fd >= 0) close(lease.fd) ;
  }
  holdingpen_end(&a) ;
  return 0 ;
}
