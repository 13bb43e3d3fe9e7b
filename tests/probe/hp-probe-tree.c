/* ISC license. */

/* hp-probe-tree fixed SEED STEPS
   hp-probe-tree growing SEED STEPS
   The trees of holdingpend under the life of its timers: ids (clients,
   then slots, more of them as reloads add pools) are armed, moved and
   cancelled in a random order given by SEED, and after each step the
   tree is checked whole (every node reached once, in order, balanced,
   as many as counted) and its minimum against a plain scan.
   "fixed" is the daemon's tree (libhpwire's hp_tree_*: an avltreen, made
   bigger by building a new one); "growing" is skalibs' growing avltree,
   which the daemon used before, checked the same way.
   Prints "ok steps=N" or "bad step=N what", exit 0; 100 usage. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skalibs/avlnode.h>
#include <skalibs/avltree.h>
#include <skalibs/avltreen.h>

#include "hpwire.h"
#include "hp-probe.h"

#define PROG "hp-probe-tree"
#define USAGE "hp-probe-tree fixed|growing seed steps"
#define IDMAX 2048

typedef struct tm_s tm ;
struct tm_s { uint64_t when ; uint32_t id ; int armed ; } ;
static tm timers[IDMAX] ;

static void *dtok (uint32_t d, void *aux)
{
  (void)aux ;
  return &timers[d] ;
}

static int cmp (void const *a, void const *b, void *aux)
{
  tm const *x = a, *y = b ;
  (void)aux ;
  if (x->when != y->when) return x->when < y->when ? -1 : 1 ;
  return x->id < y->id ? -1 : x->id > y->id ;
}

static uint64_t rnd (uint64_t *s)
{
  *s ^= *s << 13 ; *s ^= *s >> 7 ; *s ^= *s << 17 ;
  return *s ;
}

 /* A growing avltree seen as an avltreen of its current size, to check it the same way. */
static int growing_check (avltree *t)
{
  avltreen v = { .x = { .storage = (char *)avltree_nodes(t), .freelist = 0, .esize = sizeof(avlnode), .max = avltree_totalsize(t), .sp = avltree_totalsize(t) - avltree_len(t) }, .root = avltree_root(t), .dtok = t->dtok, .kcmp = t->kcmp, .external = t->external } ;
  return hp_tree_check(&v) ;
}

int main (int argc, char const *const *argv)
{
  unsigned long long seed, steps ;
  uint64_t s ;
  uint32_t ids = 16 ;
  int fixed ;
  avltreen tn ;
  avltree tg ;
  if (argc != 4 || !hp_scan_ull(argv[2], &seed) || !hp_scan_ull(argv[3], &steps)) hp_dieusage(PROG, USAGE) ;
  if (!strcmp(argv[1], "fixed")) fixed = 1 ;
  else if (!strcmp(argv[1], "growing")) fixed = 0 ;
  else hp_dieusage(PROG, USAGE) ;
  s = seed * 2654435761ULL + 1 ;
  for (uint32_t i = 0 ; i < IDMAX ; i++) timers[i].id = i ;
  if (fixed) { if (!hp_tree_init(&tn, ids, &dtok, &cmp, 0)) hp_die(111, PROG, "allocate") ; }
  else avltree_init(&tg, 8, 3, 8, &dtok, &cmp, 0) ;
  for (unsigned long long step = 1 ; step <= steps ; step++)
  {
    uint32_t id ;
    uint32_t want = IDMAX, got ;
    int ok ;
     /* now and then, a reload brings more ids: the tree must make room */
    if (ids < IDMAX && !(rnd(&s) % 64))
    {
      ids += 1 + rnd(&s) % 32 ;
      if (ids > IDMAX) ids = IDMAX ;
      if (fixed && !hp_tree_reserve(&tn, ids)) hp_die(111, PROG, "reserve") ;
    }
    id = rnd(&s) % ids ;
    if (timers[id].armed)
    {
      if (fixed) avltreen_delete(&tn, &timers[id]) ; else avltree_delete(&tg, &timers[id]) ;
      timers[id].armed = 0 ;
    }
     /* mostly armed again at another time, as a deadline moves */
    if (rnd(&s) % 3)
    {
      timers[id].when = rnd(&s) % 1000 ;
      ok = fixed ? avltreen_insert(&tn, id) : avltree_insert(&tg, id) ;
      if (!ok) { printf("bad step=%llu insert failed\n", step) ; return 0 ; }
      timers[id].armed = 1 ;
    }
    if (!(fixed ? hp_tree_check(&tn) : growing_check(&tg)))
    {
      printf("bad step=%llu tree broken\n", step) ;
      return 0 ;
    }
    for (uint32_t i = 0 ; i < ids ; i++)
      if (timers[i].armed && (want == IDMAX || cmp(&timers[i], &timers[want], 0) < 0)) want = i ;
    ok = fixed ? avltreen_min(&tn, &got) : avltree_min(&tg, &got) ;
    if (want == IDMAX ? ok : !ok || got != want)
    {
      printf("bad step=%llu wrong minimum\n", step) ;
      return 0 ;
    }
  }
  printf("ok steps=%llu\n", steps) ;
  return 0 ;
}
