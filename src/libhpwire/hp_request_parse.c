/* ISC license. */

#include <string.h>

#include <skalibs/uint32.h>
#include <skalibs/uint64.h>

#include "hppool.h"
#include "hpwire.h"

 /*
   Turns one framed message into a request, or refuses it (0). Nothing
   in the message is trusted: every length is checked, every name must
   be null-terminated inside the message and valid.
 */

static unsigned int names_check (char const *s, size_t len)
{
  unsigned int n = 0 ;
  while (len)
  {
    char const *z = memchr(s, 0, len) ;
    size_t l ;
    if (!z) return (unsigned int)-1 ;
    l = z - s ;
    if (!hp_poolname_valid(s, l)) return (unsigned int)-1 ;
    s += l + 1 ; len -= l + 1 ; n++ ;
  }
  return n ;
}

int hp_request_parse (hp_request *req, char const *s, size_t len)
{
  memset(req, 0, sizeof(hp_request)) ;
  if (!len || len > HOLDINGPEN_REQUEST_MAX) return 0 ;
  req->op = s[0] ;
  switch (req->op)
  {
    case HOLDINGPEN_OP_CLAIM :
      if (len < HOLDINGPEN_CLAIM_POOL + 2 || s[len-1]) return 0 ;
      req->flags = (unsigned char)s[HOLDINGPEN_CLAIM_FLAGS] ;
      if (req->flags & ~HOLDINGPEN_CLAIM_NOWAIT) return 0 ;
      uint32_unpack_big(s + HOLDINGPEN_CLAIM_MILLISECS, &req->millisecs) ;
      req->pool = s + HOLDINGPEN_CLAIM_POOL ;
      return hp_poolname_valid(req->pool, len - 1 - HOLDINGPEN_CLAIM_POOL) ;
    case HOLDINGPEN_OP_STATUS :
      if (len < HOLDINGPEN_STATUS_POOLS) return 0 ;
       /*
         Any flags: a bit asks for more records, and one this server
         does not know asks for records it does not have. Refusing it
         would make every later client pay a second round trip.
       */
      req->flags = (unsigned char)s[HOLDINGPEN_STATUS_FLAGS] ;
      req->names = s + HOLDINGPEN_STATUS_POOLS ;
      req->namelen = len - HOLDINGPEN_STATUS_POOLS ;
      req->npools = names_check(req->names, req->namelen) ;
      return req->npools != (unsigned int)-1 ;
    case HOLDINGPEN_OP_REVOKE :
      if (len != HOLDINGPEN_REVOKE_LEN) return 0 ;
      uint64_unpack_big(s + HOLDINGPEN_REVOKE_LEASE, &req->lease) ;
      return 1 ;
    case HOLDINGPEN_OP_RELOAD :
      return len == HOLDINGPEN_RELOAD_LEN ;
    default : return 0 ;
  }
}
