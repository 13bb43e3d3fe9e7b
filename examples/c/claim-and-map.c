/* ISC license. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <skalibs/types.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>

#include <holdingpen/holdingpen.h>

#define USAGE "claim-and-map [ -s socket ] pool"

 /*
   A client of libholdingpen without the chainloader: claim, map, use
   every byte, release. It prints what it got, and checks what the
   broker promises: the memory is zero when it arrives, and writable.
 */

int main (int argc, char const *const *argv)
{
  holdingpen a = HOLDINGPEN_ZERO ;
  holdingpen_lease lease = HOLDINGPEN_LEASE_ZERO ;
  char const *path = HOLDINGPEN_DEFAULT_SOCKET ;
  unsigned char *p ;
  tain deadline ;
  int r ;
  PROG = "claim-and-map" ;
  if (argc == 4 && !strcmp(argv[1], "-s")) { path = argv[2] ; argv += 2 ; argc -= 2 ; }
  if (argc != 2) strerr_dieusage(100, USAGE) ;

  tain_now_set_stopwatch_g() ;
  tain_addsec_g(&deadline, 10) ;
  if (!holdingpen_start_g(&a, path, &deadline)) strerr_diefu2sys(111, "connect to ", path) ;
  r = holdingpen_claim_g(&a, &lease, argv[1], 5000, 0, &deadline) ;
  if (r < 0) strerr_diefu2sys(111, "claim from pool ", argv[1]) ;
  if (r) strerr_dief4x(r, "pool ", argv[1], ": ", holdingpen_code_str(r)) ;
  p = holdingpen_map(&lease, PROT_READ | PROT_WRITE) ;
  if (!p) strerr_diefu1sys(111, "map the slot") ;
  for (uint64_t i = 0 ; i < lease.size ; i++)
    if (p[i]) strerr_dief1x(1, "the slot was not zero when it arrived") ;
  memset(p, 0xa5, lease.size) ;
  {
    char fmt[UINT64_FMT] ;
    buffer_puts(buffer_1, "claimed lease=") ;
    buffer_put(buffer_1, fmt, uint64_fmt(fmt, lease.id)) ;
    buffer_puts(buffer_1, " kind=") ;
    buffer_puts(buffer_1, lease.kind) ;
    buffer_puts(buffer_1, " size=") ;
    buffer_put(buffer_1, fmt, uint64_fmt(fmt, lease.size)) ;
    buffer_putsflush(buffer_1, " zeroed=yes written=yes\n") ;
  }
  holdingpen_unmap(&lease, p) ;
  holdingpen_end(&a) ;
  return 0 ;
}
