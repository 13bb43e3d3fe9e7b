/* ISC license. */

#include <errno.h>

#include <skalibs/stralloc.h>
#include <skalibs/unixmessage.h>

#include <holdingpen/holdingpen.h>
#include "holdingpen-internal.h"

 /*
   One request, one answer without fds: the answer code, its payload
   appended to sa (if sa is not null), or -1 with errno.
 */

int holdingpen_transact (holdingpen *a, struct iovec const *v, unsigned int vlen, stralloc *sa, tain const *deadline, tain *stamp)
{
  unixmessagev m = { .v = (struct iovec *)v, .vlen = vlen, .fds = 0, .nfds = 0 } ;
  unixmessage ans ;
  int r ;
  if (!unixmessage_putv(&a->connection.out, &m)) return -1 ;
  if (!unixmessage_sender_timed_flush(&a->connection.out, deadline, stamp)) return -1 ;
  r = unixmessage_timed_receive(&a->connection.in, &ans, deadline, stamp) ;
  if (r < 0) return -1 ;
  if (!r) return (errno = ETIMEDOUT, -1) ;
  if (!ans.len || ans.nfds)
  {
    unixmessage_drop(&ans) ;
    return (errno = EPROTO, -1) ;
  }
  if (sa && !stralloc_catb(sa, ans.s + 1, ans.len - 1)) return -1 ;
  return (unsigned char)ans.s[0] ;
}
