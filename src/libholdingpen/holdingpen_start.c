/* ISC license. */

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <skalibs/error.h>
#include <skalibs/tai.h>
#include <skalibs/djbunix.h>
#include <skalibs/socket.h>
#include <skalibs/unixconnection.h>

#include <holdingpen/holdingpen.h>

 /*
   A Unix socket whose backlog is full makes a non-blocking connect fail
   with EAGAIN at once, while a blocking connect waits in the kernel's
   queue for room, first come first served. A client that tried again
   and again without waiting would lose to any process that floods the
   broker with blocking connects: it could wait for seconds, or never
   get in. So the connect blocks, in the queue, for as long as the
   deadline leaves (SO_SNDTIMEO bounds a Unix connect's wait), and the
   socket is made non-blocking once connected.
*/

int holdingpen_start (holdingpen *a, char const *path, tain const *deadline, tain *stamp)
{
  struct timeval tv ;
  tain left ;
  int fd ;
  if (!tain_less(stamp, deadline)) return (errno = ETIMEDOUT, 0) ;
  tain_sub(&left, deadline, stamp) ;
  if (!timeval_from_tain_relative(&tv, &left)) return 0 ;
   /* 0 would mean "forever" */
  if (!tv.tv_sec && !tv.tv_usec) tv.tv_usec = 1 ;
  fd = ipc_stream_coe() ;
  if (fd < 0) return 0 ;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0
   || !ipc_connect(fd, path)
   || ndelay_on(fd) < 0)
  {
     /* the wait for room ran out */
    int e = error_isagain(errno) ? ETIMEDOUT : errno ;
    fd_close(fd) ;
    tain_now(stamp) ;
    return (errno = e, 0) ;
  }
  tain_now(stamp) ;
  unixconnection_init(&a->connection, fd, fd) ;
  return 1 ;
}
