/* ISC license. */

/* hp-probe-status01 client socket [ flags ]
   hp-probe-status01 server socket version
   Both sides of the status request as holdingpen 0.1 and 0.2 spoke it,
   written from their doc/protocol.html alone, with libc only.
     client    a status client written from 0.1's page: it sends the plain
               'S' request (flags 0, every pool), ignores the keys it does
               not know, as that page said, but knows only the records
               pool=, lease= and waiter=: it stops, exit 1, on any other.
               Prints the first word of each record, one a line. With
               flags (a number), the request carries them instead of 0,
               as a later client would send it.
     server    a broker 0.1 or 0.2 (version "0.1" or "0.2") that answers
               status requests only: flags other than 0 are refused with
               100 and the connection closed, as those brokers did; flags
               0 gets one pool= record, and from 0.2 a counters= record
               too. Prints "request flags=N" for each request it reads.
               Serves one connection at a time until killed.
   Exit 0 when the client got what it knows; 1 on a record it does not
   know or an answer that is not 0; 100 usage, 111 system error. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hp-probe.h"

#define PROG "hp-probe-status01"
#define USAGE "hp-probe-status01 client socket [ flags ] | hp-probe-status01 server socket 0.1|0.2"

static void address (struct sockaddr_un *sa, char const *path)
{
  if (strlen(path) >= sizeof(sa->sun_path)) { errno = ENAMETOOLONG ; hp_die(100, PROG, "socket path") ; }
  memset(sa, 0, sizeof(*sa)) ;
  sa->sun_family = AF_UNIX ;
  strcpy(sa->sun_path, path) ;
}

/* 1: len bytes read; 0: eof or a reset before them */
static int read_exact (int s, unsigned char *buf, size_t len)
{
  while (len)
  {
    ssize_t r = read(s, buf, len) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      if (errno == ECONNRESET) return 0 ;
      hp_die(111, PROG, "read") ;
    }
    if (!r) return 0 ;
    buf += r ; len -= (size_t)r ;
  }
  return 1 ;
}

static void write_all (int s, void const *buf, size_t len)
{
  char const *p = buf ;
  while (len)
  {
    ssize_t r = send(s, p, len, MSG_NOSIGNAL) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      if (errno == EPIPE || errno == ECONNRESET) return ;
      hp_die(111, PROG, "send") ;
    }
    p += r ; len -= (size_t)r ;
  }
}

/* A message: length u32, number of fds u16 (0 here), big-endian, then the payload. */
static void send_msg (int s, void const *body, uint32_t len)
{
  unsigned char h[6] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len, 0, 0 } ;
  write_all(s, h, 6) ;
  write_all(s, body, len) ;
}

/* The payload of the next message, null-terminated, or 0 on eof. Messages with fds are not expected. */
static unsigned char *recv_msg (int s, uint32_t *len)
{
  unsigned char h[6] ;
  unsigned char *buf ;
  if (!read_exact(s, h, 6)) return 0 ;
  *len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3] ;
  if (*len > 1U << 24) { errno = EPROTO ; hp_die(111, PROG, "a message of more than 16 MiB") ; }
  buf = malloc(*len + 1) ;
  if (!buf) hp_die(111, PROG, "malloc") ;
  if (!read_exact(s, buf, *len)) { free(buf) ; return 0 ; }
  buf[*len] = 0 ;
  return buf ;
}

static int client (char const *path, unsigned char flags)
{
  char req[2] = { 'S', (char)flags } ;
  struct sockaddr_un sa ;
  unsigned char *a ;
  uint32_t len ;
  char *p ;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) ;
  if (s < 0) hp_die(111, PROG, "socket") ;
  address(&sa, path) ;
  if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) hp_die(111, PROG, "connect") ;
  send_msg(s, req, 2) ;
  a = recv_msg(s, &len) ;
  if (!a) { errno = 0 ; hp_die(111, PROG, "no answer") ; }
  if (!len || a[0]) { fprintf(stderr, "%s: fatal: status refused: answer %u\n", PROG, len ? a[0] : 256U) ; return 1 ; }
  for (p = (char *)a + 1 ; *p ; )
  {
    char *nl = strchr(p, '\n') ;
    size_t first = strcspn(p, " \n") ;
    char *eq = memchr(p, '=', first) ;
    size_t klen = eq ? (size_t)(eq - p) : first ;
    if (!nl) { errno = 0 ; hp_die(111, PROG, "a record without its newline") ; }
    if (!((klen == 4 && !memcmp(p, "pool", 4)) || (klen == 5 && !memcmp(p, "lease", 5)) || (klen == 6 && !memcmp(p, "waiter", 6))))
    {
      fprintf(stderr, "%s: fatal: unknown record: %.*s\n", PROG, (int)first, p) ;
      return 1 ;
    }
    printf("%.*s\n", (int)first, p) ;
    p = nl + 1 ;
  }
  return 0 ;
}

static int server (char const *path, char const *version)
{
  static char const pool[] = "pool=old kind=memfd size=4096 count=1 ready=1 held=0 preparing=0 short=0 failed=0 waiters=0 expire=0 ifelapsed=0 maxperuid=0\n" ;
  static char const counters[] = "counters=daemon uptime=5 granted=7 denied=1 nopool=0 toosoon=0 limit=0 busy=0 timeout=0 expired=0 revoked=0 signals=0 helpercrashes=0 reloads=0 reloadfailures=0\n" ;
  int v2 = !strcmp(version, "0.2") ;
  struct sockaddr_un sa ;
  int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) ;
  if (!v2 && strcmp(version, "0.1")) hp_dieusage(PROG, USAGE) ;
  if (l < 0) hp_die(111, PROG, "socket") ;
  address(&sa, path) ;
  if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0) hp_die(111, PROG, "bind") ;
  if (listen(l, 8) < 0) hp_die(111, PROG, "listen") ;
  setvbuf(stdout, 0, _IOLBF, 0) ;
  for (;;)
  {
    int s = accept4(l, 0, 0, SOCK_CLOEXEC) ;
    if (s < 0) { if (errno == EINTR || errno == ECONNABORTED) continue ; hp_die(111, PROG, "accept") ; }
    for (;;)
    {
      uint32_t len ;
      unsigned char *req = recv_msg(s, &len) ;
      if (!req) break ;
      printf("request flags=%d\n", len >= 2 ? req[1] : -1) ;
      if (len < 2 || req[0] != 'S' || req[1])
      {
        unsigned char code = 100 ;
        send_msg(s, &code, 1) ;
        free(req) ;
        break ;
      }
      {
        char ans[1 + sizeof(pool) + sizeof(counters)] ;
        size_t n = 1 ;
        ans[0] = 0 ;
        memcpy(ans + n, pool, sizeof(pool) - 1) ; n += sizeof(pool) - 1 ;
        if (v2) { memcpy(ans + n, counters, sizeof(counters) - 1) ; n += sizeof(counters) - 1 ; }
        send_msg(s, ans, (uint32_t)n) ;
      }
      free(req) ;
    }
    close(s) ;
  }
  return 0 ;
}

int main (int argc, char const *const *argv)
{
  if ((argc == 3 || argc == 4) && !strcmp(argv[1], "client"))
  {
    unsigned long long flags = 0 ;
    if (argc == 4 && (!hp_scan_ull(argv[3], &flags) || flags > 255)) hp_dieusage(PROG, USAGE) ;
    return client(argv[2], (unsigned char)flags) ;
  }
  if (argc == 4 && !strcmp(argv[1], "server")) return server(argv[2], argv[3]) ;
  hp_dieusage(PROG, USAGE) ;
  return 100 ;
}
