/* ISC license. */

#include <sys/types.h>
#include <sys/socket.h>

#include "hpwire.h"

 /*
   Is the process at the other end of a Unix socket root or uid? The fd
   holder is trusted with what a broker will act on only then. 1: yes;
   0: no, its uid in *peer; -1: it cannot be told, errno set.
*/

int hp_peer_trusted (int fd, uid_t uid, uid_t *peer)
{
  struct ucred cred ;
  socklen_t len = sizeof(cred) ;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -1 ;
  *peer = cred.uid ;
  return !cred.uid || cred.uid == uid ;
}
