/* ISC license. */

#include <stddef.h>
#include <stdint.h>

#include "holdingpend-internal.h"

 /* Clients are in lists through links inside them, found by offset: one client can be in two lists. */

#define LINK(i, off) ((clink *)((char *)CLIENT(i) + (off)))

void clist_append (clist *l, uint32_t i, size_t off)
{
  clink *k = LINK(i, off) ;
  k->prev = l->tail ;
  k->next = CLIENT_NONE ;
  if (l->tail == CLIENT_NONE) l->head = i ;
  else LINK(l->tail, off)->next = i ;
  l->tail = i ;
  l->n++ ;
}

void clist_remove (clist *l, uint32_t i, size_t off)
{
  clink *k = LINK(i, off) ;
  if (k->prev == CLIENT_NONE) l->head = k->next ;
  else LINK(k->prev, off)->next = k->next ;
  if (k->next == CLIENT_NONE) l->tail = k->prev ;
  else LINK(k->next, off)->prev = k->prev ;
  k->prev = k->next = CLIENT_NONE ;
  l->n-- ;
}
