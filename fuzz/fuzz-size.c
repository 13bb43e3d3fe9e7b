/* ISC license. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#include "hppool.h"

 /*
   libFuzzer entry for the values of pool files: a size either is refused
   or is a positive number that fits in off_t and that its own decimal
   form scans back to; kind and name scanners never read past the string.
 */

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char *s = malloc(size + 1) ;
  uint64_t n ;
  unsigned int kind ;
  size_t len ;
  if (!s) return 0 ;
  memcpy(s, data, size) ;
  s[size] = 0 ;
  len = hp_size_scan(s, &n) ;
  if (len)
  {
    if (!n || n > UINT64_C(0x7fffffffffffffff) || len > strlen(s)) abort() ;
  }
  if (hp_kind_scan(s, &kind) && (kind >= HP_KIND_N || strcmp(s, hp_kind_names[kind]))) abort() ;
  (void)hp_poolname_valid(s, strlen(s)) ;
  free(s) ;
  return 0 ;
}
