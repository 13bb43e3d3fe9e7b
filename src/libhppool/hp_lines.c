/* ISC license. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>

#include "hppool.h"

 /*
   Calls f on each line of the file at path, its newline replaced by a
   null byte, until f returns 0. A line of HP_LINE_MAX bytes or more is
   given cut to that length, with cut set, and the rest of it skipped.
   The whole file goes through one buffer of that size: a helper reads
   /proc files of several kB each time it reserves, and every page its
   stack ever reached stays its own while it idles. 1: read to the end,
   or stopped by f; 0: the file could not be opened or read, errno set.
 */

int hp_lines (char const *path, hp_line_func_ref f, void *data)
{
  char buf[HP_LINE_MAX + 1] ;
  size_t len = 0 ;
  int skip = 0 ;
  int fd = open2(path, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) return 0 ;
  for (;;)
  {
    char *start = buf ;
    char *nl ;
    ssize_t r = fd_read(fd, buf + len, HP_LINE_MAX - len) ;
    if (r < 0) goto err ;
    if (!r)
    {
      buf[len] = 0 ;
      if (len && !skip) (*f)(buf, len, 0, data) ;
      break ;
    }
    len += r ;
    while ((nl = memchr(start, '\n', buf + len - start)))
    {
      *nl = 0 ;
      if (skip) skip = 0 ;
      else if (!(*f)(start, nl - start, 0, data)) goto end ;
      start = nl + 1 ;
    }
    len -= start - buf ;
    memmove(buf, start, len) ;
    if (len == HP_LINE_MAX)
    {
      buf[len] = 0 ;
      if (!skip && !(*f)(buf, len, 1, data)) goto end ;
      skip = 1 ; len = 0 ;
    }
  }
 end:
  fd_close(fd) ;
  return 1 ;
 err:
  {
    int e = errno ;
    fd_close(fd) ;
    errno = e ;
  }
  return 0 ;
}
