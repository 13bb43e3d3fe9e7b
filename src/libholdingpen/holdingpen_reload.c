/* ISC license. */

#include <sys/uio.h>

#include <holdingpen/holdingpen.h>
#include "holdingpen-internal.h"

 /* Asks for a reload; a refusal's reason (bad pool directory) is appended to sa. */

int holdingpen_reload (holdingpen *a, stralloc *sa, tain const *deadline, tain *stamp)
{
  char op = HOLDINGPEN_OP_RELOAD ;
  struct iovec v = { .iov_base = &op, .iov_len = HOLDINGPEN_RELOAD_LEN } ;
  return holdingpen_transact(a, &v, 1, sa, deadline, stamp) ;
}
