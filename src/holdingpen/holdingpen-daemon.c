/* ISC license. */

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/stat.h>

#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>
#include <skalibs/exec.h>

#include <holdingpen/config.h>
#include "hppool.h"

#define USAGE "holdingpen-daemon [ -v verbosity ] [ -d | -D ] [ -1 ] [ -r millisecs ] [ -c maxconn ] [ -C maxperuid ] [ -b backlog ] [ -G gid,gid,... ] [ -g gid ] [ -u uid ] [ -U ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ] [ -p pooldir ] [ -H helper ] [ -f fdholder [ -F keepsecs ] ] [ -m perms ] path"
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   Only builds a command line: s6-ipcserver-socketbinder binds the
   socket, s6-applyuidgid drops privileges if asked, holdingpend serves.
   The helpers are spawned after the drop, so they run as holdingpend does.
 */

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
    socketdir_check(argv[0], runas ? (uid_t)runas : getuid(), flagreuse) ;
  }

  add(&a, HOLDINGPEN_S6_BINPREFIX "s6-ipcserver-socketbinder") ;
  if (!flagreuse) add(&a, "-D") ;
  if (backlog != (unsigned int)-1) add_uint(&a, "-b", backlog) ;
  add_ouint(&a, "-a", perms) ;
  add(&a, "--") ;
  add(&a, argv[0]) ;
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
