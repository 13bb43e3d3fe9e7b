/* ISC license. */

#include "hppool.h"

 /* Pool names become directory names and log words: keep them tame. */

int hp_poolname_valid (char const *s, size_t len)
{
  if (!len || len > HOLDINGPEN_POOLNAME_MAX) return 0 ;
  if (s[0] == '.') return 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    char c = s[i] ;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return 0 ;
  }
  return 1 ;
}
