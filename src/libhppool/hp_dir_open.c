/* ISC license. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <skalibs/djbunix.h>

#include "hppool.h"

 /*
   Opens a directory as root may trust it. Following the path by name
   (stat, open) trusts every component: a symlink planted in a
   directory that others can write to, at a name that does not exist
   yet, sends root wherever its planter likes. So the path is walked
   from "/", one component at a time, each opened with O_NOFOLLOW
   relative to the one before and looked at through its own fd: what is
   checked is what is opened, and nothing can be swapped in between.
   Each component must pass hp_dir_shared: a directory that only root
   and uid can write to, or a root-owned sticky one (like /tmp), where
   nobody can rename or remove what root or uid made there.

   O_PATH needs no read right on the directories, only search: a
   daemon that is not root can walk what it can reach.

   Returns an O_PATH fd of the directory, or -1 with w set:
   w->why: a component is refused, for that reason; or 0, and errno
   says what failed (ENOENT: a component does not exist, yet).
   w->len: path[0..len) names the component where the walk stopped.
   w->planted: it stopped at an entry that another user made in a
   directory shared like /tmp: someone else's doing, not the admin's.
 */

static int look (int fd, uid_t uid, hp_dirwalk *w, int *shared)
{
  struct stat st ;
  int r ;
  if (fstat(fd, &st) < 0) return 0 ;
  r = hp_dir_shared(&st, uid, &w->why) ;
  if (!r)
  {
    w->planted = *shared && st.st_uid && st.st_uid != uid ;
    return (errno = EACCES, 0) ;
  }
  *shared = r == 2 ;
  return 1 ;
}

 /* What is at name in fd, that O_DIRECTORY|O_NOFOLLOW would not open. */
static void notdir (int fd, char const *name, uid_t uid, hp_dirwalk *w, int shared)
{
  struct stat st ;
  if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return ;
  w->why = S_ISLNK(st.st_mode) ? "a symbolic link" : "not a directory" ;
  w->planted = shared && st.st_uid && st.st_uid != uid ;
}

int hp_dir_open (char const *path, uid_t uid, hp_dirwalk *w)
{
  size_t i = 0 ;
  int shared = 0 ;
  int fd ;
  w->why = 0 ;
  w->len = 0 ;
  w->planted = 0 ;
  if (path[0] != '/') return (w->why = "not an absolute path", errno = EINVAL, -1) ;
  fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC) ;
  if (fd < 0) return -1 ;
  w->len = 1 ;
  if (!look(fd, uid, w, &shared)) goto err ;
  for (;;)
  {
    size_t n ;
    int next ;
    while (path[i] == '/') i++ ;
    if (!path[i]) break ;
    n = strcspn(path + i, "/") ;
    w->len = i + n ;
    if (n > NAME_MAX) { errno = ENAMETOOLONG ; goto err ; }
    {
      char name[n + 1] ;
      memcpy(name, path + i, n) ;
      name[n] = 0 ;
       /* .. would leave a directory that was checked for one that may not be */
      if (!strcmp(name, "..")) { w->why = "a .. component" ; errno = EINVAL ; goto err ; }
      i += n ;
      if (!strcmp(name, ".")) continue ;
      next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) ;
      if (next < 0)
      {
        if (errno == ENOTDIR || errno == ELOOP)
        {
          int e = errno ;
          notdir(fd, name, uid, w, shared) ;
          errno = e ;
        }
        goto err ;
      }
    }
    fd_close(fd) ;
    fd = next ;
    if (!look(fd, uid, w, &shared)) goto err ;
  }
  return fd ;

 err:
  {
    int e = errno ;
    fd_close(fd) ;
    errno = e ;
  }
  return -1 ;
}
