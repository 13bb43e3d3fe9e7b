/* ISC license. */

#include <stdint.h>

#include <skalibs/types.h>

#include "hppool.h"

 /*
   A size is a decimal number of bytes with an optional binary suffix
   K, M, G or T (either case). Zero and anything that does not fit in
   63 bits are refused: off_t must hold it.
 */

size_t hp_size_scan (char const *s, uint64_t *size)
{
  uint64_t n ;
  unsigned int shift = 0 ;
  size_t len = uint64_scan(s, &n) ;
  if (!len || len > 19) return 0 ;
  switch (s[len])
  {
    case 'k' : case 'K' : shift = 10 ; len++ ; break ;
    case 'm' : case 'M' : shift = 20 ; len++ ; break ;
    case 'g' : case 'G' : shift = 30 ; len++ ; break ;
    case 't' : case 'T' : shift = 40 ; len++ ; break ;
    default : break ;
  }
  if (!n || n > (UINT64_C(0x7fffffffffffffff) >> shift)) return 0 ;
  *size = n << shift ;
  return len ;
}
