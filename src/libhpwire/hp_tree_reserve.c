/* ISC license. */

#include <stdint.h>
#include <errno.h>

#include <skalibs/alloc.h>
#include <skalibs/avlnode.h>
#include <skalibs/avltreen.h>

#include "hpwire.h"

 /*
   Every tree of holdingpend is an avltreen, whose storage never moves,
   never skalibs' growing avltree. Up to skalibs 2.14.4.0, avlnode_delete
   marks a missing child with the storage size of the moment; once a
   growing tree's storage grows, that marker names a real node or a free
   one, and the tree has a cycle that a walk to its minimum never leaves.
   An avltreen's size, hence its marker, never changes. When more room is
   needed (a reload adds slots), a bigger tree is built beside the old
   one and every node is inserted into it anew.
*/

static int copy (uint32_t d, unsigned int h, void *aux)
{
  (void)h ;
  return avltreen_insert((avltreen *)aux, d) ;
}

int hp_tree_init (avltreen *t, uint32_t n, dtok_func_ref dtok, cmp_func_ref cmp, void *aux)
{
  avlnode *nodes ;
  uint32_t *freelist ;
  if (!n) n = 1 ;
  nodes = alloc(n * sizeof(avlnode)) ;
  if (!nodes) return 0 ;
  freelist = alloc(n * sizeof(uint32_t)) ;
  if (!freelist) { alloc_free(nodes) ; return 0 ; }
  avltreen_init(t, nodes, freelist, n, dtok, cmp, aux) ;
  return 1 ;
}

void hp_tree_free (avltreen *t)
{
  alloc_free(t->x.storage) ;
  alloc_free(t->x.freelist) ;
  t->x.storage = 0 ;
  t->x.freelist = 0 ;
  t->x.max = t->x.sp = 0 ;
  t->root = UINT32_MAX ;
}

 /*
   Room for n nodes at least; 0 and ENOMEM, the tree as it was, if none
   can be had. A tree that holds nodes at least doubles, so that slots
   added one by one (those taken back across a restart) copy it rarely;
   an empty one, as at start-up, is made the size asked, since every
   node of a tree is allocated whether used or not.
*/
int hp_tree_reserve (avltreen *t, uint32_t n)
{
  avltreen nt ;
  uint32_t max = avltreen_totalsize(t) ;
  if (n <= max) return 1 ;
  if (avltreen_len(t) && n < 2 * max) n = 2 * max ;
  if (!hp_tree_init(&nt, n, t->dtok, t->kcmp, t->external)) return 0 ;
  if (!avltreen_iter(t, &copy, &nt))
  {
    hp_tree_free(&nt) ;
    return (errno = EINVAL, 0) ;
  }
  hp_tree_free(t) ;
  *t = nt ;
  return 1 ;
}
