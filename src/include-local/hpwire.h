/* ISC license. */

#ifndef HPWIRE_H
#define HPWIRE_H

#include <stddef.h>
#include <stdint.h>

#include <holdingpen/protocol.h>

 /* The server's side of the wire: what holdingpend makes of a client's bytes. */

typedef struct hp_request_s hp_request, *hp_request_ref ;
struct hp_request_s
{
  char op ;
  unsigned char flags ;
  uint32_t millisecs ;
  uint64_t lease ;
  char const *pool ;    /* C: the pool name, inside the message */
  char const *names ;   /* S: npools names, each null-terminated */
  size_t namelen ;
  unsigned int npools ;
} ;

extern int hp_request_parse (hp_request *, char const *, size_t) ;

#endif
