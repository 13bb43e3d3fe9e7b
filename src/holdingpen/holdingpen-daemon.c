/* ISC license. */

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>
#include <skalibs/tai.h>
#include <skalibs/exec.h>

#include <s6/fdholder.h>

#include <holdingpen/config.h>
#include "hppool.h"
#include "hpwire.h"

#define USAGE "holdingpen-daemon [ -v verbosity ] [ -d | -D ] [ -1 ] [ -r millisecs ] [ -c maxconn ] [ -C maxperuid ] [ -b backlog ] [ -G gid,gid,... ] [ -g gid ] [ -u uid ] [ -U ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ] [ -p pooldir ] [ -H helper ] [ -f fdholder [ -F keepsecs ] ] [ -m perms ] path"
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   Mostly builds a command line: s6-ipcserver-socketbinder binds the
   socket, s6-applyuidgid drops privileges if asked, holdingpend serves.
   The helpers are spawned after the drop, so they run as holdingpend does.

   With -f, holdingpend keeps its listening socket in the fd holder, so
   before binding we take it back from there: connections made while
   no holdingpend ran wait in its backlog for the next one, instead of
   being refused by a socket bound anew. Then the command line starts
   after s6-ipcserver-socketbinder, with that socket as stdin.
 */

#define LISTEN_TIMEOUT_MS 500

typedef struct argbuf_s argbuf, *argbuf_ref ;
struct argbuf_s
{
  char const *argv[48] ;
  unsigned int m ;
  char fmt[UINT_FMT * 12 + GID_FMT * NGROUPS_MAX] ;
  size_t pos ;
} ;

static void lock_refuse (char const *lockname, struct stat const *st, uid_t uid)
{
  if (S_ISLNK(st->st_mode))
    strerr_dief3x(100, "refusing ", lockname, ": it is a symbolic link, in a directory anyone can write to") ;
  if (!S_ISREG(st->st_mode) || (st->st_uid && st->st_uid != uid) || st->st_nlink != 1)
    strerr_dief3x(100, "refusing ", lockname, ": not a regular file of root or the daemon's uid with one link, in a directory anyone can write to") ;
}

static void lock_check (char const *path, uid_t uid)
{
  size_t len = strlen(path) ;
  char lockname[len + 6] ;
  struct stat st ;
  int fd ;
  memcpy(lockname, path, len) ;
  memcpy(lockname + len, ".lock", 6) ;
   /* lstat for a clear refusal; O_NOFOLLOW and fstat for what really gets opened */
  if (lstat(lockname, &st) == 0) lock_refuse(lockname, &st, uid) ;
  else if (errno != ENOENT) strerr_diefu2sys(111, "stat ", lockname) ;
  fd = open(lockname, O_WRONLY | O_NONBLOCK | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600) ;
  if (fd < 0)
  {
    if (errno == ELOOP) strerr_dief3x(100, "refusing ", lockname, ": it is a symbolic link, in a directory anyone can write to") ;
    strerr_diefu2sys(111, "open ", lockname) ;
  }
  if (fstat(fd, &st) < 0) strerr_diefu2sys(111, "stat ", lockname) ;
  fd_close(fd) ;
  lock_refuse(lockname, &st, uid) ;
}

 /*
   root binds the socket and, with -d, creates path.lock: in a directory
   another user can write to, a symlink planted there would make root
   create or truncate a file of the planter's choosing. Refuse such a
   directory, unless it is root-owned and sticky (like /tmp): there
   nobody can remove or rename what another made, so once path.lock
   exists as our own regular file, it stays so; we make sure of that now,
   before s6-ipcserver-socketbinder opens it.
 */
static void socketdir_check (char const *path, uid_t uid, int flagreuse)
{
  char const *slash = strrchr(path, '/') ;
  size_t len = slash ? (size_t)(slash - path) : 1 ;
  char dir[len + 1] ;
  struct stat st ;
  char const *why ;
  int r ;
  if (!slash) dir[0] = '.' ;
  else if (!len) { dir[0] = '/' ; len = 1 ; }
  else memcpy(dir, path, len) ;
  dir[len] = 0 ;
  if (stat(dir, &st) < 0) strerr_diefu3sys(111, "stat ", dir, ", the socket's directory") ;
  r = hp_dir_shared(&st, uid, &why) ;
  if (!r) strerr_dief5x(100, "refusing the socket's directory ", dir, ": ", why, "; put the socket in a directory of its own") ;
  if (r == 2 && flagreuse) lock_check(path, uid) ;
}

 /*
   Whether the file at the socket's path is the very file the kept
   socket bound, asked of the kernel (sock_diag, UDIAG_SHOW_VFS): a
   socket bound there later by someone else, the old one unlinked, has
   the same name and is a socket too, but clients would reach it and
   never ours. 1 same, 0 another file, -1 the kernel does not say
   (no unix_diag): the caller then trusts the name.
 */
static int listen_same_file (int fd, struct stat const *pathst)
{
  struct stat st ;
  struct { struct nlmsghdr h ; struct unix_diag_req r ; } q ;
  union { struct nlmsghdr h ; char buf[4096] ; } a ;
  struct nlmsghdr *h = &a.h ;
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK } ;
  ssize_t r ;
  int s ;
  if (fstat(fd, &st) < 0) return -1 ;
  memset(&q, 0, sizeof q) ;
  q.h.nlmsg_len = sizeof q ;
  q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY ;
  q.h.nlmsg_flags = NLM_F_REQUEST ;
  q.r.sdiag_family = AF_UNIX ;
  q.r.udiag_states = ~0U ;
  q.r.udiag_ino = (unsigned int)st.st_ino ;
  q.r.udiag_show = UDIAG_SHOW_VFS ;
  q.r.udiag_cookie[0] = q.r.udiag_cookie[1] = ~0U ;  /* INET_DIAG_NOCOOKIE: any socket of that inode */
  s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG) ;
  if (s < 0) return -1 ;
  if (sendto(s, &q, sizeof q, 0, (struct sockaddr *)&kernel, sizeof kernel) != (ssize_t)sizeof q)
  {
    fd_close(s) ;
    return -1 ;
  }
   /* the kernel answers a request for one socket before sendto returns */
  r = recv(s, a.buf, sizeof a.buf, MSG_DONTWAIT) ;
  fd_close(s) ;
  if (r <= 0 || !NLMSG_OK(h, (size_t)r) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY
   || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg))) return -1 ;
  {
    struct unix_diag_msg const *m = NLMSG_DATA(h) ;
    struct rtattr *rta = (struct rtattr *)(m + 1) ;
    unsigned int len = h->nlmsg_len - NLMSG_LENGTH(sizeof *m) ;
    if (m->udiag_ino != q.r.udiag_ino) return -1 ;
    for (; RTA_OK(rta, len) ; rta = RTA_NEXT(rta, len))
    {
      struct unix_diag_vfs v ;
      if (rta->rta_type != UNIX_DIAG_VFS || RTA_PAYLOAD(rta) < sizeof v) continue ;
      memcpy(&v, RTA_DATA(rta), sizeof v) ;
       /* the kernel's dev_t is major << 20 | minor, not the one stat gives */
      return v.udiag_vfs_ino == (uint32_t)pathst->st_ino
        && v.udiag_vfs_dev >> 20 == major(pathst->st_dev)
        && (v.udiag_vfs_dev & 0xfffffU) == minor(pathst->st_dev) ;
    }
  }
  return 0 ;  /* bound to no file at all */
}

 /* Why fd is not the listening socket of path (abspath), or 0 if it is. */
static char const *listen_refusal (int fd, char const *path, char const *abspath)
{
  struct sockaddr_un sa ;
  socklen_t salen = sizeof sa ;
  struct stat st ;
  int v ;
  socklen_t vlen = sizeof v ;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &vlen) < 0) return "it is not a socket" ;
  if (v != AF_UNIX) return "it is not a Unix domain socket" ;
  vlen = sizeof v ;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vlen) < 0 || v != SOCK_STREAM) return "it is not a stream socket" ;
  vlen = sizeof v ;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vlen) < 0 || !v) return "it is not listening" ;
  memset(&sa, 0, sizeof sa) ;
  if (getsockname(fd, (struct sockaddr *)&sa, &salen) < 0 || salen <= offsetof(struct sockaddr_un, sun_path))
    return "it is bound to no path" ;
  {
    size_t len = salen - offsetof(struct sockaddr_un, sun_path) ;
    char name[sizeof sa.sun_path + 1] ;
    memcpy(name, sa.sun_path, len) ;
    name[len] = 0 ;
    if (strcmp(name, path) && strcmp(name, abspath)) return "it is bound to another path" ;
  }
  if (lstat(path, &st) < 0) return errno == ENOENT ? "its path no longer exists" : "its path cannot be read" ;
  if (!S_ISSOCK(st.st_mode)) return "its path is no longer a socket" ;
  if (!listen_same_file(fd, &st)) return "its path is now another socket's" ;
  return 0 ;
}

 /* The fd holder may be trusted with what holdingpend serves from only if it runs as root or as holdingpend. */
static int fdholder_trusted (s6_fdholder_t const *a, char const *fdholder, uid_t daemonuid, unsigned int verbosity)
{
  uid_t peer ;
  int r = hp_peer_trusted(unixmessage_sender_fd(&a->connection.out), daemonuid, &peer) ;
  if (r < 0 && verbosity) strerr_warnwu2sys("get the credentials of the fd holder at ", fdholder) ;
  else if (!r && verbosity)
  {
    char fmt[UID_FMT] ;
    fmt[uid_fmt(fmt, peer)] = 0 ;
    strerr_warnw4x("refusing the fd holder at ", fdholder, ", binding anew: it runs as uid ", fmt) ;
  }
  return r > 0 ;
}

 /*
   The listening socket of path, taken back from the fd holder at
   fdholder, or -1: then the caller binds anew, as without -f. Nothing
   here is fatal: a broker with no fd holder still serves.
 */
static int listen_retrieve (char const *fdholder, char const *path, uid_t daemonuid, unsigned int verbosity)
{
  s6_fdholder_t a = S6_FDHOLDER_ZERO ;
  char id[S6_FDHOLDER_ID_SIZE + 1] ;
  char const *why ;
  tain deadline, timeout ;
  int fd ;
   /* the identifier holdingpend keeps it under: the absolute path */
  if (!hp_listen_id(id, sizeof(id), path, strlen(path)))
  {
    if (verbosity && errno == ENAMETOOLONG) strerr_warnw2x("the socket's path is too long for an fd holder identifier, binding anew: ", path) ;
    else if (verbosity) strerr_warnwu2sys("get the current directory to name the kept listening socket; binding ", path) ;
    return -1 ;
  }
  tain_now_set_stopwatch_g() ;
   /* start-up waits at most this long on an fd holder that does not answer */
  tain_from_millisecs(&timeout, LISTEN_TIMEOUT_MS) ;
  tain_add_g(&deadline, &timeout) ;
  if (!s6_fdholder_start_g(&a, fdholder, &deadline))
  {
    if (verbosity) strerr_warnwu4sys("connect to the fd holder at ", fdholder, " to take back the listening socket; binding ", path) ;
    return -1 ;
  }
  if (!fdholder_trusted(&a, fdholder, daemonuid, verbosity))
  {
    s6_fdholder_end(&a) ;
    return -1 ;
  }
  fd = s6_fdholder_retrieve_g(&a, id, &deadline) ;
  if (fd < 0)
  {
     /* nothing kept: a first start, or the broker was stopped for good */
    if (errno != ENOENT && verbosity)
      strerr_warnwu4sys("take back the listening socket from the fd holder at ", fdholder, "; binding ", path) ;
    s6_fdholder_end(&a) ;
    return -1 ;
  }
  s6_fdholder_end(&a) ;
  why = listen_refusal(fd, path, id + sizeof(HP_LISTEN_ID) - 1) ;
  if (why)
  {
    if (verbosity) strerr_warnw6x("refusing the listening socket kept as ", id, ": ", why, "; binding ", path) ;
    fd_close(fd) ;
    return -1 ;
  }
  if (verbosity) strerr_warni2x("listening socket taken back from the fd holder: ", path) ;
  return fd ;
}

static void add (argbuf *a, char const *s)
{
  a->argv[a->m++] = s ;
}

static void add_uint (argbuf *a, char const *opt, unsigned int u)
{
  add(a, opt) ;
  add(a, a->fmt + a->pos) ;
  a->pos += uint_fmt(a->fmt + a->pos, u) ;
  a->fmt[a->pos++] = 0 ;
}

static void add_ouint (argbuf *a, char const *opt, unsigned int u)
{
  add(a, opt) ;
  add(a, a->fmt + a->pos) ;
  a->fmt[a->pos++] = '0' ;
  a->pos += uint_ofmt(a->fmt + a->pos, u) ;
  a->fmt[a->pos++] = 0 ;
}

int main (int argc, char const *const *argv, char const *const *envp)
{
  argbuf a = { .m = 0, .pos = 0 } ;
  unsigned int verbosity = 1 ;
  int flag1 = 0, flagU = 0, flagreuse = 1, flagC = 0 ;
  unsigned int maxperuid = 0 ;
  unsigned int uid = 0, gid = 0, maxconn = 0, timeout = 0, lameducktimeout = 0, readydeadline = 0, perms = 0666 ;
  unsigned int backlog = (unsigned int)-1 ;
  gid_t gids[NGROUPS_MAX] ;
  size_t gidn = (size_t)-1 ;
  char const *rulesdir = 0, *rulesfile = 0, *pooldir = 0, *helper = 0, *fdholder = 0 ;
  unsigned int keepsecs = 0 ;
  int kept ;
  uid_t daemonuid ;
  PROG = "holdingpen-daemon" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "v:dD1r:c:C:b:G:g:u:Ut:T:i:x:p:H:m:f:F:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'v' : if (!uint0_scan(l.arg, &verbosity)) dieusage() ; break ;
        case 'd' : flagreuse = 1 ; break ;
        case 'D' : flagreuse = 0 ; break ;
        case '1' : flag1 = 1 ; break ;
        case 'r' : if (!uint0_scan(l.arg, &readydeadline)) dieusage() ; break ;
        case 'c' : if (!uint0_scan(l.arg, &maxconn)) dieusage() ; if (!maxconn) maxconn = 1 ; break ;
        case 'C' : if (!uint0_scan(l.arg, &maxperuid)) dieusage() ; flagC = 1 ; break ;
        case 'b' : if (!uint0_scan(l.arg, &backlog)) dieusage() ; break ;
        case 'G' : if (!gid_scanlist(gids, NGROUPS_MAX, l.arg, &gidn) && *l.arg) dieusage() ; break ;
        case 'g' : if (!uint0_scan(l.arg, &gid)) dieusage() ; break ;
        case 'u' : if (!uint0_scan(l.arg, &uid)) dieusage() ; break ;
        case 'U' : flagU = 1 ; uid = 0 ; gid = 0 ; gidn = (size_t)-1 ; break ;
        case 't' : if (!uint0_scan(l.arg, &timeout)) dieusage() ; break ;
        case 'T' : if (!uint0_scan(l.arg, &lameducktimeout)) dieusage() ; break ;
        case 'i' : rulesdir = l.arg ; rulesfile = 0 ; break ;
        case 'x' : rulesfile = l.arg ; rulesdir = 0 ; break ;
        case 'p' : pooldir = l.arg ; break ;
        case 'H' : helper = l.arg ; break ;
        case 'f' : fdholder = l.arg ; break ;
        case 'F' : if (!uint0_scan(l.arg, &keepsecs) || !keepsecs) dieusage() ; break ;
        case 'm' : if (!uint0_oscan(l.arg, &perms) || perms > 0777) dieusage() ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (argc != 1) dieusage() ;
  {
     /* the uid holdingpend will run as: it may own the socket's directory */
    unsigned int runas = uid ;
    char const *x = getenv("UID") ;
    if (!runas && flagU && (!x || !uint0_scan(x, &runas))) strerr_dief1x(100, "-U given but UID is not set to a number") ;
    daemonuid = runas ? (uid_t)runas : getuid() ;
    socketdir_check(argv[0], daemonuid, flagreuse) ;
  }

  if (fdholder && (kept = listen_retrieve(fdholder, argv[0], daemonuid, verbosity)) >= 0)
  {
     /*
       The same socket, so its file's mode and owner are what -m made
       them when it was bound. The backlog can be set again on a
       listening socket: a new -b applies now, as a rebinding would.
     */
    if (backlog && listen(kept, backlog == (unsigned int)-1 ? SOMAXCONN : (int)backlog) < 0)
      strerr_diefu1sys(111, "listen to the kept listening socket") ;
    if (fd_move(0, kept) < 0 || uncoe(0) < 0)
      strerr_diefu1sys(111, "make the kept listening socket stdin") ;
  }
  else
  {
    add(&a, HOLDINGPEN_S6_BINPREFIX "s6-ipcserver-socketbinder") ;
    if (!flagreuse) add(&a, "-D") ;
    if (backlog != (unsigned int)-1) add_uint(&a, "-b", backlog) ;
    add_ouint(&a, "-a", perms) ;
    add(&a, "--") ;
    add(&a, argv[0]) ;
  }
  if (flagU || uid || gid || gidn != (size_t)-1)
  {
    add(&a, HOLDINGPEN_S6_BINPREFIX "s6-applyuidgid") ;
    if (flagU) add(&a, "-Uz") ;
    if (uid) add_uint(&a, "-u", uid) ;
    if (gid) add_uint(&a, "-g", gid) ;
    if (gidn != (size_t)-1)
    {
      add(&a, "-G") ;
      add(&a, a.fmt + a.pos) ;
      a.pos += gid_fmtlist(a.fmt + a.pos, gids, gidn) ;
      a.fmt[a.pos++] = 0 ;
    }
    add(&a, "--") ;
  }
  add(&a, HOLDINGPEN_BINPREFIX "holdingpend") ;
  if (verbosity != 1) add_uint(&a, "-v", verbosity) ;
  if (flag1) add(&a, "-1") ;
  if (readydeadline) add_uint(&a, "-r", readydeadline) ;
  if (maxconn) add_uint(&a, "-c", maxconn) ;
  if (flagC) add_uint(&a, "-C", maxperuid) ;
  if (timeout) add_uint(&a, "-t", timeout) ;
  if (lameducktimeout) add_uint(&a, "-T", lameducktimeout) ;
  if (rulesdir) { add(&a, "-i") ; add(&a, rulesdir) ; }
  else if (rulesfile) { add(&a, "-x") ; add(&a, rulesfile) ; }
  if (pooldir) { add(&a, "-p") ; add(&a, pooldir) ; }
  if (helper) { add(&a, "-H") ; add(&a, helper) ; }
  if (fdholder) { add(&a, "-f") ; add(&a, fdholder) ; }
  if (keepsecs) add_uint(&a, "-F", keepsecs) ;
  add(&a, 0) ;
  xexec_ae(a.argv[0], a.argv, envp) ;
}
