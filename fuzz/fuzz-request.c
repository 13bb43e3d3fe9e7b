/* ISC license. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#include "hpwire.h"
#include "hppool.h"

 /*
   libFuzzer entry: whatever a client sends, hp_request_parse either
   refuses it or returns a request whose every name lies inside the
   message, is null-terminated and is a valid pool name.
 */

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  hp_request req ;
  char *copy = malloc(size ? size : 1) ;
  if (!copy) return 0 ;
  if (size) memcpy(copy, data, size) ;
  if (hp_request_parse(&req, copy, size))
  {
    switch (req.op)
    {
      case 'C' :
      {
        size_t len = strlen(req.pool) ;
        if (req.pool < copy || req.pool + len >= copy + size) abort() ;
        if (!hp_poolname_valid(req.pool, len)) abort() ;
        break ;
      }
      case 'S' :
      {
        char const *s = req.names ;
        for (unsigned int i = 0 ; i < req.npools ; i++)
        {
          size_t len = strlen(s) ;
          if (s + len >= copy + size || !hp_poolname_valid(s, len)) abort() ;
          s += len + 1 ;
        }
        if (s != req.names + req.namelen) abort() ;
        break ;
      }
      case 'R' : case 'H' : break ;
      default : abort() ;
    }
  }
  free(copy) ;
  return 0 ;
}
