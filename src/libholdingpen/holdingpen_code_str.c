/* ISC license. */

#include <holdingpen/holdingpen.h>

char const *holdingpen_code_str (int code)
{
  switch (code)
  {
    case HOLDINGPEN_OK : return "granted" ;
    case HOLDINGPEN_DENIED : return "permission denied by the server's rules" ;
    case HOLDINGPEN_NOENT : return "no such pool or lease" ;
    case HOLDINGPEN_TOOSOON : return "too soon since this user's last claim" ;
    case HOLDINGPEN_LIMIT : return "per-user limit of live leases reached" ;
    case HOLDINGPEN_BUSY : return "no free slot" ;
    case HOLDINGPEN_BADCONFIG : return "the new configuration was refused; the old one stays" ;
    case HOLDINGPEN_TIMEOUT : return "no free slot before the deadline" ;
    case HOLDINGPEN_BADREQUEST : return "the server refused the request as malformed" ;
    case HOLDINGPEN_SERVERFAIL : return "the server failed" ;
    default : return "unknown answer code" ;
  }
}
