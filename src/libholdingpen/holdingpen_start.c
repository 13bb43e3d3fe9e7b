/* ISC license. */

#include <errno.h>

#include <skalibs/error.h>
#include <skalibs/tai.h>
#include <skalibs/iopause.h>
#include <skalibs/djbunix.h>
#include <skalibs/socket.h>
#include <skalibs/unixconnection.h>

#include <holdingpen/holdingpen.h>

 /*
   A Unix socket whose backlog is full refuses a non-blocking connect
   with EAGAIN at once: that only means the broker is busy (a flood of
   connections by someone else, a burst of claims), so the connection
   is tried again, 10 ms later and up to 100 ms apart, until the deadline.
*/

int holdingpen_start (holdingpen *a, char const *path, tain const *deadline, tain *stamp)
{
  tain pause ;
  tain_from_millisecs(&pause, 10) ;
  for (;;)
  {
    tain next ;
    int fd = ipc_stream_nbcoe() ;
    if (fd < 0) return 0 ;
    if (ipc_timed_connect(fd, path, deadline, stamp))
    {
      unixconnection_init(&a->connection, fd, fd) ;
      return 1 ;
    }
    fd_close(fd) ;
    if (!error_isagain(errno)) return 0 ;
    tain_add(&next, stamp, &pause) ;
    if (!tain_less(&next, deadline)) return (errno = ETIMEDOUT, 0) ;
    iopause_stamp(0, 0, &next, stamp) ;
    if (tai_sec(tain_secp(&pause)) < 1 && tain_nano(&pause) < 100000000) tain_add(&pause, &pause, &pause) ;
  }
}
