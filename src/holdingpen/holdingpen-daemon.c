/* ISC license. */

#include <limits.h>
#include <sys/types.h>

#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/exec.h>

#include <holdingpen/config.h>

#define USAGE "holdingpen-daemon [ -v verbosity ] [ -d | -D ] [ -1 ] [ -r millisecs ] [ -c maxconn ] [ -C maxperuid ] [ -b backlog ] [ -G gid,gid,... ] [ -g gid ] [ -u uid ] [ -U ] [ -t timeout ] [ -T lameducktimeout ] [ -i rulesdir | -x rulesfile ] [ -p pooldir ] [ -H helper ] [ -m perms ] path"
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
  char fmt[UINT_FMT * 10 + GID_FMT * NGROUPS_MAX] ;
  size_t pos ;
} ;

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
  char const *rulesdir = 0, *rulesfile = 0, *pooldir = 0, *helper = 0 ;
  PROG = "holdingpen-daemon" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "v:dD1r:c:C:b:G:g:u:Ut:T:i:x:p:H:m:", &l) ;
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
        case 'm' : if (!uint0_oscan(l.arg, &perms) || perms > 0777) dieusage() ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (argc != 1) dieusage() ;

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
  add(&a, 0) ;
  xexec_ae(a.argv[0], a.argv, envp) ;
}
