/* ISC license. */

#include <stdint.h>
#include <stdlib.h>

#include <skalibs/types.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

#include <holdingpen/config.h>
#include <holdingpen/holdingpen.h>

#define USAGE "holdingpen-revoke [ -s socket ] [ -r ] [ lease... ]"
#define dieusage() strerr_dieusage(100, USAGE)

 /*
   Exit codes: 0 all done, 1 denied, 2 a lease did not exist (the others
   were still revoked), 6 the reload was refused, 111 system error.
 */

int main (int argc, char const *const *argv)
{
  holdingpen a = HOLDINGPEN_ZERO ;
  char const *path = getenv("HOLDINGPEN_SOCKET") ;
  int flagr = 0 ;
  int e = 0 ;
  tain deadline ;
  PROG = "holdingpen-revoke" ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "s:r", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 's' : path = l.arg ; break ;
        case 'r' : flagr = 1 ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (!argc && !flagr) dieusage() ;
  if (!path || !*path) path = HOLDINGPEN_DEFAULT_SOCKET ;
  {
    uint64_t ids[argc ? argc : 1] ;
    for (int i = 0 ; i < argc ; i++)
      if (!uint640_scan(argv[i], ids + i)) strerr_dief2x(100, "invalid lease id: ", argv[i]) ;

    tain_now_set_stopwatch_g() ;
    tain_addsec_g(&deadline, 10) ;
    if (!holdingpen_start_g(&a, path, &deadline)) strerr_diefu2sys(111, "connect to holdingpend at ", path) ;
    for (int i = 0 ; i < argc ; i++)
    {
      int r = holdingpen_revoke_g(&a, ids[i], &deadline) ;
      if (r < 0) strerr_diefu2sys(111, "revoke lease ", argv[i]) ;
      if (r == HOLDINGPEN_DENIED) strerr_dief1x(1, "revoke refused: permission denied by the server's rules") ;
      if (r == HOLDINGPEN_NOENT)
      {
        strerr_warnw2x("no such lease: ", argv[i]) ;
        e = 2 ;
         /* the server closes the connection after a refusal: the rest needs a new one */
        if (i + 1 < argc || flagr)
        {
          holdingpen_end(&a) ;
          if (!holdingpen_start_g(&a, path, &deadline)) strerr_diefu2sys(111, "connect to holdingpend at ", path) ;
        }
      }
      else if (r) strerr_dief2x(111, "revoke refused: ", holdingpen_code_str(r)) ;
    }
  }
  if (flagr)
  {
    stralloc sa = STRALLOC_ZERO ;
    int r = holdingpen_reload_g(&a, &sa, &deadline) ;
    if (r < 0) strerr_diefu1sys(111, "ask for a reload") ;
    if (r == HOLDINGPEN_DENIED) strerr_dief1x(1, "reload refused: permission denied by the server's rules") ;
    if (r == HOLDINGPEN_BADCONFIG)
    {
      if (!stralloc_0(&sa)) strerr_diefu1sys(111, "stralloc_0") ;
      strerr_dief2x(6, "reload refused, the old configuration stays: ", sa.s) ;
    }
    if (r) strerr_dief2x(111, "reload refused: ", holdingpen_code_str(r)) ;
  }
  holdingpen_end(&a) ;
  return e ;
}
