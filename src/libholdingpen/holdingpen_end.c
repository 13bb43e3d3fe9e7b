/* ISC license. */

#include <skalibs/djbunix.h>
#include <skalibs/unixconnection.h>

#include <holdingpen/holdingpen.h>

void holdingpen_end (holdingpen *a)
{
  fd_close(unixmessage_sender_fd(&a->connection.out)) ;
  unixconnection_free(&a->connection) ;
  *a = (holdingpen)HOLDINGPEN_ZERO ;
}
