/* ISC license. */

#include <stdint.h>

#include "holdingpend-internal.h"

 /*
   Lists of clients or of slots, through links inside them, members
   named by their index: O(1) to join and leave, nothing allocated. One
   member may be in several lists (a client is in the active list and
   in its pool's), each with its own link, which the list's accessor
   finds from the index.
*/

void ilist_append (ilist *l, uint32_t i, ilink_func *at)
{
  ilink *k = (*at)(i) ;
  k->prev = l->tail ;
  k->next = ILIST_NONE ;
  if (l->tail == ILIST_NONE) l->head = i ;
  else (*at)(l->tail)->next = i ;
  l->tail = i ;
  l->n++ ;
}

void ilist_remove (ilist *l, uint32_t i, ilink_func *at)
{
  ilink *k = (*at)(i) ;
  if (k->prev == ILIST_NONE) l->head = k->next ;
  else (*at)(k->prev)->next = k->next ;
  if (k->next == ILIST_NONE) l->tail = k->prev ;
  else (*at)(k->next)->prev = k->prev ;
  k->prev = k->next = ILIST_NONE ;
  l->n-- ;
}
