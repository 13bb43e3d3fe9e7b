/* ISC license. */

#include <errno.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <skalibs/types.h>
#include <skalibs/alloc.h>
#include <skalibs/bytestr.h>
#include <skalibs/cdb.h>
#include <skalibs/env.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>

#include <s6/accessrules.h>

#include "holdingpend-internal.h"

#define GROUPS_MAX 256
#define CLAIMRE_MAX 16

 /*
   What a connection may do is decided once, when it comes, from the
   access rules as s6-fdholderd reads them, with one more step: after
   uid/UID and gid/GID (the primary group), each supplementary group the
   kernel recorded at connect time (SO_PEERGROUPS) is tried as gid/GID,
   before uid/default. The first rule found decides. A console group
   given by pam_group is a supplementary group: this is what lets a rule
   say "the person at the console".
*/

/*
   The rules file (-x) is read anew at a reload into *c, and used only
   once everything else the reload needs is there (rules_commit): a
   reload refused changes nothing. 1: read (or nothing to read); 0:
   refused, err says why; -1: system error.
*/
int rules_read (cdb *c, stralloc *err)
{
  if (g.rulestype != 2) return 1 ;
  if (cdb_init(c, g.rules)) return 1 ;
  if (errno == ENOMEM) return -1 ;
  return stralloc_cats(err, "unable to read the rules file ") && stralloc_cats(err, g.rules) ? 0 : -1 ;
}

void rules_commit (cdb *c)
{
  if (g.rulestype != 2) return ;
  cdb_free(&g.rulescdb) ;
  g.rulescdb = *c ;
  *c = cdb_zero ;
}

static s6_accessrules_result_t check (char const *key, size_t len, s6_accessrules_params_t *params)
{
  return g.rulestype == 1 ? s6_accessrules_backend_fs(key, len, g.rules, params)
                          : s6_accessrules_backend_cdb(key, len, &g.rulescdb, params) ;
}

static s6_accessrules_result_t check_id (char const *prefix, uint64_t id, s6_accessrules_params_t *params)
{
  char key[4 + UINT64_FMT] ;
  memcpy(key, prefix, 4) ;
  return check(key, 4 + uint64_fmt(key + 4, id), params) ;
}

static s6_accessrules_result_t check_groups (client const *c, gid_t const *groups, size_t n, s6_accessrules_params_t *params)
{
  for (size_t i = 0 ; i < n ; i++)
  {
    s6_accessrules_result_t r ;
    if (groups[i] == c->gid) continue ;
    r = check_id("gid/", groups[i], params) ;
    if (r != S6_ACCESSRULES_NOTFOUND) return r ;
  }
  return S6_ACCESSRULES_NOTFOUND ;
}

 /*
   The supplementary groups, as the kernel recorded them at connect time.
   Most clients have a few: they fit on the stack. More than GROUPS_MAX,
   the kernel says how much room they need (ERANGE), and they are read
   again into that. If they cannot be read at all, the lookup is an
   error, so that a client whose groups are unknown gets no rights.
*/
static s6_accessrules_result_t lookup_groups (client const *c, s6_accessrules_params_t *params)
{
  gid_t groups[GROUPS_MAX] ;
  socklen_t len = sizeof(groups) ;
  if (!getsockopt(client_fd(c), SOL_SOCKET, SO_PEERGROUPS, groups, &len))
    return check_groups(c, groups, len / sizeof(gid_t), params) ;
  if (errno == ENOPROTOOPT) return S6_ACCESSRULES_NOTFOUND ;  /* before Linux 4.13: primary gid only */
  if (errno != ERANGE) return S6_ACCESSRULES_ERROR ;
  {
    s6_accessrules_result_t r = S6_ACCESSRULES_ERROR ;
    gid_t *many = alloc(len) ;
    if (!many) return S6_ACCESSRULES_ERROR ;
    if (!getsockopt(client_fd(c), SOL_SOCKET, SO_PEERGROUPS, many, &len))
      r = check_groups(c, many, len / sizeof(gid_t), params) ;
    alloc_free(many) ;
    return r ;
  }
}

 /*
   libs6's uid and gid lookup (uid/self, uid/UID, gid/self, gid/GID, then
   uid/default), with the supplementary groups slipped in just before
   uid/default, which it asks last.
*/
static s6_accessrules_result_t check_with_groups (char const *key, size_t len, void const *data, s6_accessrules_params_t *params)
{
  if (len == 11 && !memcmp(key, "uid/default", 11))
  {
    s6_accessrules_result_t r = lookup_groups(data, params) ;
    if (r != S6_ACCESSRULES_NOTFOUND) return r ;
  }
  return check(key, len, params) ;
}

static s6_accessrules_result_t lookup (client const *c, s6_accessrules_params_t *params)
{
  uidgid_t ug = { .left = c->uid, .right = c->gid } ;
  return s6_accessrules_keycheck_uidgid(&ug, c, params, &check_with_groups) ;
}

/*
   The claim regexes, each compiled once, when first seen, and kept: a
   rule's HOLDINGPEN_CLAIM_REGEX is the same for every connection it
   lets in, and glibc's regcomp is not safe when its own allocations
   fail (it can free a block twice: CVE-2025-8058, and the glibc of
   Debian 12, fixed for it, still does for an expression like ^(a|b)$).
   Kept, a regex is not compiled again while memory is short. The least
   recently used goes when more than CLAIMRE_MAX are in use.
*/

typedef struct claimre_s claimre, *claimre_ref ;
struct claimre_s
{
  char *text ;      /* 0: a free entry */
  regex_t re ;
  uint64_t used ;
} ;

static claimre claimres[CLAIMRE_MAX] ;
static uint64_t claimre_tick ;

 /* The compiled text, kept or compiled now; 0 and the regcomp code in *e if it cannot be had (REG_ESPACE: want of memory). */
static regex_t const *claimre_get (char const *text, int *e)
{
  claimre *victim = claimres ;
  for (unsigned int i = 0 ; i < CLAIMRE_MAX ; i++)
  {
    claimre *r = claimres + i ;
    if (r->text && !strcmp(r->text, text))
    {
      r->used = ++claimre_tick ;
      return &r->re ;
    }
     /* a free entry first, else the least recently used */
    if (victim->text && (!r->text || r->used < victim->used)) victim = r ;
  }
  {
    char *t = strdup(text) ;
    if (!t) return (*e = REG_ESPACE, (regex_t const *)0) ;
    if (victim->text)
    {
      regfree(&victim->re) ;
      free(victim->text) ;
      victim->text = 0 ;
    }
    *e = regcomp(&victim->re, text, REG_EXTENDED) ;
    if (*e)
    {
      free(t) ;
      return 0 ;
    }
    victim->text = t ;
    victim->used = ++claimre_tick ;
    return &victim->re ;
  }
}

 /* 0 only for want of memory. */
static int parse_env (client *c, char const *s, size_t len)
{
  size_t n = byte_count(s, len, 0) ;
  char const *envp[n + 1] ;
  if (!env_make(envp, n, s, len)) return 0 ;
  envp[n] = 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    if (!strncmp(envp[i], "HOLDINGPEN_STATUS=", 18)) c->canstatus = 1 ;
    else if (!strncmp(envp[i], "HOLDINGPEN_ADMIN=", 17)) c->canadmin = 1 ;
    else if (!strncmp(envp[i], "HOLDINGPEN_CLAIM_REGEX=", 23) && !c->claimre)
    {
      char const *src = envp[i] + 23 ;
      int e ;
       /* checked, and compiled for the claims to come */
      if (!claimre_get(src, &e))
      {
        regex_t none ;
        char buf[256] ;
        if (e == REG_ESPACE) return (errno = ENOMEM, 0) ;
        memset(&none, 0, sizeof(none)) ;
        regerror(e, &none, buf, sizeof(buf)) ;
        if (g.verbosity) strerr_warnw4x("invalid HOLDINGPEN_CLAIM_REGEX ", src, ": ", buf) ;
        continue ;
      }
       /* the client keeps the text: the compiled regex is shared, a held lease never needs it */
      c->claimre = strdup(src) ;
      if (!c->claimre) return 0 ;
    }
  }
  return 1 ;
}

/*
   1: c's rights are known. 0: for want of memory they could not be
   read; c has none, and the caller refuses its requests 111 rather than
   deny them by rule.
*/
int rules_apply (client *c)
{
  s6_accessrules_params_t params = S6_ACCESSRULES_PARAMS_ZERO ;
  s6_accessrules_result_t r ;
  int ok = 1 ;
  if (!g.rulestype)
  {
     /* no rules: the daemon's own uid and root, nobody else */
    if (c->uid && c->uid != g.myuid) return 1 ;
    c->claimre = strdup(".*") ;
    if (!c->claimre) return 0 ;
    c->canstatus = 1 ;
    c->canadmin = 1 ;
    return 1 ;
  }
  r = lookup(c, &params) ;
  if (r == S6_ACCESSRULES_ERROR)
  {
    if (errno == ENOMEM) ok = 0 ;
    else if (g.verbosity) strerr_warnwu1sys("check the access rules") ;
  }
  if (r == S6_ACCESSRULES_ALLOW && params.env.len && !parse_env(c, params.env.s, params.env.len)) ok = 0 ;
  {
    int e = errno ;
    s6_accessrules_params_free(&params) ;
    errno = e ;
  }
  if (!ok) c->canstatus = c->canadmin = 0 ;
  return ok ;
}

 /*
   The rule names whole pool names: a match must cover the name, not a
   part of it. 1: allowed; 0: not; -1: it cannot be known now, for want
   of memory.
*/
int rules_claim_allowed (client const *c, char const *poolname)
{
  regex_t const *re ;
  regmatch_t m ;
  int e ;
  if (!c->claimre) return 0 ;
  re = claimre_get(c->claimre, &e) ;
  if (!re) return e == REG_ESPACE ? -1 : 0 ;
   /* glibc's regexec says "no match" when it runs out of memory: errno tells */
  errno = 0 ;
  e = regexec(re, poolname, 1, &m, 0) ;
  if (e && errno == ENOMEM) return -1 ;
   /* POSIX matching is leftmost-longest: if a match of the whole name exists, this is it */
  return !e && m.rm_so == 0 && (size_t)m.rm_eo == strlen(poolname) ;
}
