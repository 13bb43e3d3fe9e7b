/* ISC license. */

#include <string.h>

#include <skalibs/uint32.h>
#include <skalibs/uint64.h>

#include "hpconf.h"

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
  if (!len) return 0 ;
  req->op = s[0] ;
  s++ ; len-- ;
  switch (req->op)
  {
    case 'C' :
      if (len < 7 || s[len-1]) return 0 ;
      req->flags = (unsigned char)s[0] ;
      if (req->flags & ~HOLDINGPEN_CLAIM_NOWAIT) return 0 ;
      uint32_unpack_big(s + 1, &req->millisecs) ;
      req->pool = s + 5 ;
      return hp_poolname_valid(req->pool, len - 6) ;
    case 'S' :
      if (!len) return 0 ;
      req->flags = (unsigned char)s[0] ;
      if (req->flags) return 0 ;
      req->names = s + 1 ;
      req->namelen = len - 1 ;
      req->npools = names_check(s + 1, len - 1) ;
      return req->npools != (unsigned int)-1 ;
    case 'R' :
      if (len != 8) return 0 ;
      uint64_unpack_big(s, &req->lease) ;
      return 1 ;
    case 'H' :
      return !len ;
    default : return 0 ;
  }
}
