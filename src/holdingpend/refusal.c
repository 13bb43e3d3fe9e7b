/* ISC license. */

#include <stddef.h>

#include "holdingpend-internal.h"

 /*
   Every refusal by policy, once: its words in the log, its answer, its
   counter. The code that refuses names a refusal by its enum; log.c
   prints its words, status.c walks the counters. Several reasons share
   a counter: the counters= record was there before some of the reasons,
   and its keys are the protocol's (HOLDINGPEN_COUNTERS_REFUSED).
*/

refusal const refusals[REFUSAL_N] =
{
  [REFUSAL_RULES] = { .event = "deny", .reason = "rules", .answer = HOLDINGPEN_DENIED, .counter = REFUSED_DENIED },
  [REFUSAL_HOLDER] = { .event = "deny", .reason = "holder", .answer = HOLDINGPEN_DENIED, .counter = REFUSED_DENIED },
  [REFUSAL_STATUS] = { .event = "deny", .reason = "status", .answer = HOLDINGPEN_DENIED, .counter = REFUSED_DENIED },
  [REFUSAL_ADMIN] = { .event = "deny", .reason = "admin", .answer = HOLDINGPEN_DENIED, .counter = REFUSED_DENIED },
  [REFUSAL_NOPOOL] = { .event = "deny", .reason = "nopool", .answer = HOLDINGPEN_NOENT, .counter = REFUSED_NOPOOL },
  [REFUSAL_REMOVED] = { .event = "deny", .reason = "removed", .answer = HOLDINGPEN_NOENT, .counter = REFUSED_NOPOOL },
  [REFUSAL_TOOSOON] = { .event = "deny", .reason = "toosoon", .answer = HOLDINGPEN_TOOSOON, .counter = REFUSED_TOOSOON },
  [REFUSAL_LIMIT] = { .event = "deny", .reason = "limit", .answer = HOLDINGPEN_LIMIT, .counter = REFUSED_LIMIT },
  [REFUSAL_BUSY] = { .event = "deny", .reason = "busy", .answer = HOLDINGPEN_BUSY, .counter = REFUSED_BUSY },
  [REFUSAL_TIMEOUT] = { .event = "timeout", .reason = 0, .answer = HOLDINGPEN_TIMEOUT, .counter = REFUSED_TIMEOUT }
} ;

char const *const refused_keys[] = { HOLDINGPEN_COUNTERS_REFUSED } ;

 /* a key more or less in protocol.h than counters here does not compile */
typedef char refused_keys_match[sizeof(refused_keys) == REFUSED_N * sizeof(char const *) ? 1 : -1] ;

 /* A refusal by policy, of a claim or of any request: logged with who and why, counted, then answered. */
void refuse (client *c, char const *poolname, unsigned int why, char const *extra, size_t extralen)
{
  log_refusal(c, poolname, why) ;
  g.count.refused[refusals[why].counter]++ ;
  client_refuse(c, refusals[why].answer, extra, extralen) ;
}
