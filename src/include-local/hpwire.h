/* ISC license. */

#ifndef HPWIRE_H
#define HPWIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <skalibs/functypes.h>
#include <skalibs/avltreen.h>

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


 /*
   A client's unread bytes, bounded. skalibs' unixmessage_receive
   allocates whatever length a header announces before the payload
   comes; a request is never longer than HOLDINGPEN_REQUEST_MAX, so a
   client's input lives in this fixed buffer and a header that says more
   is refused before anything is allocated.
 */

#define HP_FRAME_HEADER 6
#define HP_INBUF_SIZE (HP_FRAME_HEADER + HOLDINGPEN_REQUEST_MAX)

typedef struct hp_inbuf_s hp_inbuf, *hp_inbuf_ref ;
struct hp_inbuf_s
{
  size_t len ;
  char buf[HP_INBUF_SIZE] ;
} ;

#define HP_FRAME_BAD (-2)
extern int hp_frame_get (int, hp_inbuf *, char const **, size_t *) ;
extern void hp_frame_next (hp_inbuf *) ;


 /* Who is at the other end: a pidfd of the connector, proven (hp_peer_pidfd.c). */

#define HP_PEER_PROVE 0x01   /* do not ask the kernel (SO_PEERPIDFD): prove it the long way */
#define HP_PEER_FDS_MAX 4096  /* the long way reads at most so many of the connector's fds */
extern int hp_peer_pidfd (int, pid_t, unsigned int) ;
extern int hp_peer_trusted (int, uid_t, uid_t *) ;

 /* The listening socket kept in the fd holder (hp_listen_id.c). */
#define HP_LISTEN_ID "holdingpen/listen"
extern int hp_listen_id (char *, size_t, char const *, size_t) ;
extern int hp_pidfd_exited (int) ;
extern int hp_pidfd_signal (int, int) ;
extern int hp_pidfd_pid (int, pid_t *) ;
extern int hp_pidfd_uids (int, uid_t *) ;  /* real, effective, saved, fs */


 /*
   Trees of a size that never grows by itself: skalibs' growing avltree
   corrupts itself on skalibs before 2.14.5.0 (hp_tree_reserve.c says how).
   hp_tree_reserve makes room for n nodes, in a new tree if it must;
   hp_tree_check says whether a tree is whole and in order.
*/

extern int hp_tree_init (avltreen *, uint32_t, dtok_func_ref, cmp_func_ref, void *) ;
extern void hp_tree_free (avltreen *) ;
extern int hp_tree_reserve (avltreen *, uint32_t) ;
extern int hp_tree_check (avltreen const *) ;

#endif
