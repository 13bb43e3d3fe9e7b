/* ISC license. */

#include <errno.h>
#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include <skalibs/types.h>
#include <skalibs/djbunix.h>

#include "hpwire.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

 /*
   The pidfd of the process at the other end of a Unix socket, which
   connected as pid (from SO_PEERCRED); -1 if it cannot be had or proven,
   and errno ENOMEM if it is for want of memory (not a verdict on the
   connector), ESRCH or another if the connector is not proven.
   The careful kill must reach the process that connected and nobody
   else: a pid may already belong to someone else by the time it is used.
   Linux 6.5 and later give the connector's pidfd with the connection
   (SO_PEERPIDFD). Before that, or with HP_PEER_PROVE, the pid is opened
   with pidfd_open and the process behind it must prove that it is the
   connector: it holds the other end of the connection, and it is still
   alive once that was checked, so its pid cannot have changed hands
   meanwhile. That proof reads the connector's fds, which it chooses:
   only the first HP_PEER_FDS_MAX are looked at, so that a process with
   tens of thousands of fds cannot make the daemon spend its time there.
*/

static int pidfd_open_ (pid_t pid)
{
#ifdef SYS_pidfd_open
  return (int)syscall(SYS_pidfd_open, pid, 0) ;
#else
  (void)pid ;
  return (errno = ENOSYS, -1) ;
#endif
}

 /* The inode of the other end of a connected Unix socket, from the kernel's sock_diag. */
static int peer_inode (int sock, uint32_t *ino)
{
  struct stat st ;
  struct
  {
    struct nlmsghdr nlh ;
    struct unix_diag_req r ;
  } req ;
  union { struct nlmsghdr h ; char buf[1024] ; } ans ;
  ssize_t n ;
  int nl ;
  if (fstat(sock, &st) < 0) return 0 ;
  memset(&req, 0, sizeof(req)) ;
  req.nlh.nlmsg_len = sizeof(req) ;
  req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY ;
  req.nlh.nlmsg_flags = NLM_F_REQUEST ;
  req.r.sdiag_family = AF_UNIX ;
  req.r.udiag_states = ~0U ;
  req.r.udiag_ino = (uint32_t)st.st_ino ;
  req.r.udiag_show = UDIAG_SHOW_PEER ;
  req.r.udiag_cookie[0] = req.r.udiag_cookie[1] = ~0U ;
  nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG) ;
  if (nl < 0) return 0 ;
  n = send(nl, &req, sizeof(req), 0) == (ssize_t)sizeof(req) ? recv(nl, ans.buf, sizeof(ans.buf), 0) : -1 ;
  fd_close(nl) ;
  if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct unix_diag_msg)) || !NLMSG_OK(&ans.h, (size_t)n) || ans.h.nlmsg_type != SOCK_DIAG_BY_FAMILY) return 0 ;
  {
    struct unix_diag_msg const *m = NLMSG_DATA(&ans.h) ;
    size_t len = ans.h.nlmsg_len - NLMSG_LENGTH(sizeof(*m)) ;
    for (struct rtattr const *a = (struct rtattr const *)(m + 1) ; RTA_OK(a, len) ; a = RTA_NEXT(a, len))
      if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t))
      {
        memcpy(ino, RTA_DATA(a), sizeof(uint32_t)) ;
        return 1 ;
      }
  }
  return 0 ;
}

 /* Does process pid have an fd on socket inode ino? -1: it cannot be known for want of memory. */
static int holds_socket (pid_t pid, uint32_t ino)
{
  char path[14 + PID_FMT] = "/proc/" ;
  char want[10 + UINT32_FMT] = "socket:[" ;
  size_t wantlen = 8 + uint32_fmt(want + 8, ino) ;
  size_t plen = 6 + pid_fmt(path + 6, pid) ;
  DIR *dir ;
  int found = 0 ;
  want[wantlen++] = ']' ;
  memcpy(path + plen, "/fd", 4) ;
  dir = opendir(path) ;
  if (!dir) return errno == ENOMEM ? -1 : 0 ;
  for (unsigned int n = 0 ; n < HP_PEER_FDS_MAX ; n++)
  {
    struct dirent *d = readdir(dir) ;
    char link[sizeof(want) + 1] ;
    char fdpath[sizeof(path) + 8 + UINT_FMT] ;
    ssize_t r ;
    size_t dlen ;
    if (!d) break ;
    if (d->d_name[0] == '.') continue ;
    dlen = strlen(d->d_name) ;
    if (dlen > UINT_FMT) continue ;
    memcpy(fdpath, path, plen + 3) ;
    fdpath[plen + 3] = '/' ;
    memcpy(fdpath + plen + 4, d->d_name, dlen + 1) ;
    r = readlink(fdpath, link, sizeof(link)) ;
    if (r == (ssize_t)wantlen && !memcmp(link, want, wantlen)) { found = 1 ; break ; }
  }
  closedir(dir) ;
  return found ;
}

int hp_peer_pidfd (int sock, pid_t pid, unsigned int flags)
{
  int pidfd ;
  if (!(flags & HP_PEER_PROVE))
  {
    socklen_t len = sizeof(pidfd) ;
    if (!getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len)) return pidfd ;
    if (errno != ENOPROTOOPT && errno != EINVAL) return -1 ;
  }
  if (pid <= 0) return (errno = ESRCH, -1) ;
  pidfd = pidfd_open_(pid) ;
  if (pidfd < 0) return -1 ;
  {
    uint32_t ino ;
    int r = peer_inode(sock, &ino) ? holds_socket(pid, ino) : 0 ;
    if (r > 0 && !hp_pidfd_exited(pidfd)) return pidfd ;
    fd_close(pidfd) ;
     /* not proven, or (ENOMEM) not provable now */
    return (errno = r < 0 ? ENOMEM : ESRCH, -1) ;
  }
}
