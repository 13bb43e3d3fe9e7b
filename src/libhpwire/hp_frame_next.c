/* ISC license. */

#include <string.h>

#include <skalibs/uint32.h>

#include "hpwire.h"

 /* Drops the whole frame at the head of b; what follows it moves up. */

void hp_frame_next (hp_inbuf *b)
{
  uint32_t l ;
  size_t n ;
  if (b->len < HP_FRAME_HEADER) return ;
  uint32_unpack_big(b->buf, &l) ;
  n = HP_FRAME_HEADER + (size_t)l ;
  if (n > b->len) n = b->len ;
  memmove(b->buf, b->buf + n, b->len - n) ;
  b->len -= n ;
}
