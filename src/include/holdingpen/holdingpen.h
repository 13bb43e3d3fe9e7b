/* ISC license. */

#ifndef HOLDINGPEN_H
#define HOLDINGPEN_H

#include <stddef.h>
#include <stdint.h>

#include <skalibs/tai.h>
#include <skalibs/stralloc.h>
#include <skalibs/unixconnection.h>

#include <holdingpen/config.h>
#include <holdingpen/protocol.h>

 /* Answer codes: see protocol.h. */

extern char const *holdingpen_code_str (int) ;


 /* A connection to holdingpend. After a granted claim, it is the lease. */

typedef struct holdingpen_s holdingpen, *holdingpen_ref ;
struct holdingpen_s
{
  unixconnection connection ;
} ;
#define HOLDINGPEN_ZERO { .connection = UNIXCONNECTION_ZERO }
#define holdingpen_fd(a) unixmessage_receiver_fd(&(a)->connection.in)

extern int holdingpen_start (holdingpen *, char const *, tain const *, tain *) ;
#define holdingpen_start_g(a, path, deadline) holdingpen_start(a, path, (deadline), &STAMP)
extern void holdingpen_end (holdingpen *) ;


 /* Claims */

typedef struct holdingpen_lease_s holdingpen_lease, *holdingpen_lease_ref ;
struct holdingpen_lease_s
{
  uint64_t id ;
  uint64_t size ;
  int fd ;              /* the resource; -1 for the ballast kinds */
  int leasefd ;         /* the connection: closing every copy ends the lease */
  uint32_t wait ;       /* with HOLDINGPEN_TOOSOON: seconds to wait */
  char kind[HOLDINGPEN_KIND_MAX + 1] ;
} ;
#define HOLDINGPEN_LEASE_ZERO { .id = 0, .size = 0, .fd = -1, .leasefd = -1, .wait = 0, .kind = "" }

extern int holdingpen_claim_send (holdingpen *, char const *, uint32_t, uint32_t) ;
extern int holdingpen_claim_recv (holdingpen *, holdingpen_lease *) ;
extern int holdingpen_claim (holdingpen *, holdingpen_lease *, char const *, uint32_t, uint32_t, tain const *, tain *) ;
#define holdingpen_claim_g(a, lease, pool, millisecs, flags, deadline) holdingpen_claim(a, lease, pool, millisecs, flags, (deadline), &STAMP)
extern void *holdingpen_map (holdingpen_lease const *, int) ;
extern int holdingpen_unmap (holdingpen_lease const *, void *) ;


 /* Administration */

extern int holdingpen_status (holdingpen *, stralloc *, char const *const *, unsigned int, tain const *, tain *) ;
#define holdingpen_status_g(a, sa, pools, n, deadline) holdingpen_status(a, sa, pools, n, (deadline), &STAMP)
extern int holdingpen_status_ask (holdingpen *, stralloc *, unsigned char, char const *const *, unsigned int, tain const *, tain *) ;
#define holdingpen_status_ask_g(a, sa, what, pools, n, deadline) holdingpen_status_ask(a, sa, what, pools, n, (deadline), &STAMP)
extern int holdingpen_revoke (holdingpen *, uint64_t, tain const *, tain *) ;
#define holdingpen_revoke_g(a, id, deadline) holdingpen_revoke(a, id, (deadline), &STAMP)
extern int holdingpen_reload (holdingpen *, stralloc *, tain const *, tain *) ;
#define holdingpen_reload_g(a, sa, deadline) holdingpen_reload(a, sa, (deadline), &STAMP)

#endif
