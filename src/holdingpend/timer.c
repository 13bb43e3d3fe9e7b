/* ISC license. */

#include <stdint.h>

#include <skalibs/tai.h>
#include <skalibs/avltreen.h>
#include <skalibs/strerr.h>

#include "holdingpend-internal.h"

 /*
   Every deadline (a request's answer time, a claim's wait, an expiry,
   the next step of a careful kill, a helper's respawn) is a timer in one
   tree ordered by time: the loop asks for the soonest, and finding what
   is due costs nothing for the clients and slots that wait for nothing.
   The tree has room for every timer there can be: one per connection,
   one per slot, the fd holder's; arming a timer never allocates.
*/

static void *timer_dtok (uint32_t d, void *aux)
{
  (void)aux ;
  if (d == TIMER_KEEP) return &g.keeptimer ;
  if (d & TIMER_SLOT) return &slot_of_index(d & ~TIMER_SLOT)->respawn ;
  return &CLIENT(d)->deadline ;
}

static int timer_cmp (void const *a, void const *b, void *aux)
{
  timer const *ta = a ;
  timer const *tb = b ;
  (void)aux ;
  if (tain_less(&ta->when, &tb->when)) return -1 ;
  if (tain_less(&tb->when, &ta->when)) return 1 ;
  return ta->id < tb->id ? -1 : ta->id > tb->id ;
}

 /* The moment ms milliseconds from now; a longer wait than an int of milliseconds is cut to that. */
void deadline_in_ms (tain *t, uint32_t ms)
{
  tain d ;
  tain_from_millisecs(&d, ms > 0x7fffffff ? 0x7fffffff : (int)ms) ;
  tain_add_g(t, &d) ;
}

 /* Whole seconds from now until t; 0 if t has passed. */
uint64_t secs_until (tain const *t)
{
  tain left ;
  if (!tain_less(&STAMP, t)) return 0 ;
  tain_sub(&left, t, &STAMP) ;
  return tai_sec(tain_secp(&left)) ;
}

void timer_init (void)
{
  if (!hp_tree_init(&g.timers, g.maxconn + 1, &timer_dtok, &timer_cmp, 0))
    strerr_diefu1sys(111, "allocate the timer tree") ;
}

 /* Room for the timers of nslots slots besides the connections' and the fd holder's. */
int timer_room (uint32_t nslots)
{
  return hp_tree_reserve(&g.timers, g.maxconn + 1 + nslots) ;
}

 /* The test builds check the whole tree after every change: a corrupted one must not pass unseen. */
static void check (void)
{
#ifdef HP_TREE_CHECKS
  if (!hp_tree_check(&g.timers)) strerr_dief1x(111, "the timer tree is corrupted") ;
#endif
}

void timer_cancel (timer *t)
{
  if (!t->armed) return ;
  avltreen_delete(&g.timers, t) ;
  t->armed = 0 ;
  check() ;
}

void timer_set (timer *t, tain const *when)
{
  timer_cancel(t) ;
  t->when = *when ;
   /*
     There is room for every timer: a full tree is a bug, not a shortage.
     The test builds die of it; a daemon in service says so and goes on,
     the deadline lost rather than everything else.
   */
  if (!avltreen_insert(&g.timers, t->id))
  {
#ifdef HP_TREE_CHECKS
    strerr_dief1x(111, "the timer tree is full") ;
#else
    if (g.verbosity) strerr_warnw1x("the timer tree is full: a deadline is lost") ;
    return ;
#endif
  }
  t->armed = 1 ;
  check() ;
}

 /* The soonest deadline in *deadline; 0 if there is none. */
int timer_next (tain *deadline)
{
  uint32_t d ;
  if (!avltreen_min(&g.timers, &d)) return 0 ;
  *deadline = ((timer *)timer_dtok(d, 0))->when ;
  return 1 ;
}

 /* One timer whose time has come, taken out of the tree; 0 if none is due. */
int timer_due (uint32_t *id)
{
  uint32_t d ;
  timer *t ;
  if (!avltreen_min(&g.timers, &d)) return 0 ;
  t = timer_dtok(d, 0) ;
  if (tain_future(&t->when)) return 0 ;
  timer_cancel(t) ;
  *id = d ;
  return 1 ;
}
