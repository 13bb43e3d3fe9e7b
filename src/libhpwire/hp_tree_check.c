/* ISC license. */

#include <stdint.h>

#include <skalibs/avlnode.h>
#include <skalibs/avltreen.h>

#include "hpwire.h"

 /*
   Is the tree whole? Every node reached from the root once, within the
   storage, in strict order of its keys, balanced as an AVL tree, and
   as many reached as the tree counts. For the test builds and the tree
   tests: a corrupted tree must not pass unseen.
*/

typedef struct walk_s walk, *walk_ref ;
struct walk_s
{
  avltreen const *t ;
  uint32_t seen ;
  uint32_t last ;   /* the last node met in order; UINT32_MAX before the first */
} ;

 /* The height of the subtree at r, or -1 if it is broken. */
static int visit (walk *w, uint32_t r, unsigned int depth)
{
  avlnode const *s = avltreen_nodes(w->t) ;
  uint32_t max = avltreen_totalsize(w->t) ;
  int hl, hr ;
  if (r >= max) return 0 ;
  if (depth >= AVLNODE_MAXDEPTH || ++w->seen > avltreen_len(w->t)) return -1 ;
  hl = visit(w, s[r].child[0], depth + 1) ;
  if (hl < 0) return -1 ;
  if (w->last != UINT32_MAX)
  {
    void const *a = (*w->t->dtok)(s[w->last].data, w->t->external) ;
    void const *b = (*w->t->dtok)(s[r].data, w->t->external) ;
    if ((*w->t->kcmp)(a, b, w->t->external) >= 0) return -1 ;
  }
  w->last = r ;
  hr = visit(w, s[r].child[1], depth + 1) ;
  if (hr < 0 || hl - hr > 1 || hr - hl > 1) return -1 ;
  return 1 + (hl > hr ? hl : hr) ;
}

int hp_tree_check (avltreen const *t)
{
  walk w = { .t = t, .seen = 0, .last = UINT32_MAX } ;
  if (visit(&w, avltreen_root(t), 0) < 0) return 0 ;
  return w.seen == avltreen_len(t) ;
}
