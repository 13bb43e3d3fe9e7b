/* ISC license. */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hpwire.h"

 /*
   The name a listening socket bound to path is kept under in the fd
   holder: HP_LISTEN_ID and the path made absolute with the current
   directory, no link resolved, so that holdingpend, which keeps it, and
   holdingpen-daemon, which takes it back, name it alike. id has room for
   max bytes; 1, or 0 and errno (ENAMETOOLONG: it does not fit).
*/

int hp_listen_id (char *id, size_t max, char const *path, size_t pathlen)
{
  size_t n = sizeof(HP_LISTEN_ID) - 1 ;
  if (!pathlen || n >= max) return (errno = ENAMETOOLONG, 0) ;
  memcpy(id, HP_LISTEN_ID, n) ;
  if (path[0] != '/')
  {
    if (!getcwd(id + n, max - n - 1)) return 0 ;
    n += strlen(id + n) ;
    id[n++] = '/' ;
  }
  if (n + pathlen >= max) return (errno = ENAMETOOLONG, 0) ;
  memcpy(id + n, path, pathlen) ;
  id[n + pathlen] = 0 ;
  return 1 ;
}
