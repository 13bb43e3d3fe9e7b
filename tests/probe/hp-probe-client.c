/* ISC license. */

/* hp-probe-client [ -t millisecs ] socket mode [ args... ]
   Speaks (or mangles) the holdingpend wire protocol by hand, with libc only,
   so that tests can send what no real client would. A message is a header
   (length: uint32 big-endian, number of fds: uint16 big-endian) then the
   payload; fds travel as SCM_RIGHTS.
   Modes:
     junk             32 bytes of 0xff, no framing (an absurd length)
     noise            4096 pseudo-random bytes, no framing
     shorthead        3 bytes of a header, then close at once
     shortbody        a header announcing 100 bytes, 5 of them, then close
     hold-shorthead N 3 bytes of a header, then stay silent N seconds, then close
     hugelen          a header announcing 2^28-1 bytes, 16 of them, then close
     empty            a well-framed message of length 0
     unknown          a well-framed message with command 'Z'
     claim-short      'C' alone
     claim-nonul POOL a claim whose pool name has no terminating NUL
     revoke-short     'R' and 3 bytes of a lease id
     fdflood          command 'Z' with 200 fds (/dev/null) attached
     claim POOL [ nowait ] [ hold-ms ]
                      a correct claim; with hold-ms, keep the lease that long
     claim-with-fd POOL
                      a correct claim with one unrequested fd attached
     status           a correct status request; prints the text
   Output, after the sending: "answer=CODE len=L nfds=N" (+ "lease=ID
   size=S kind=K" for a granted claim), or answer=eof (the daemon closed the
   connection), answer=reset, answer=none (nothing within -t, default 5000
   ms), or answer=skipped for the modes that close at once. For error answers
   and eof, then "closed=1" if the connection is closed within 5 s, else
   "closed=0". Exit 0 whatever the daemon did; 100 usage, 111 system error. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "hp-probe.h"

#define PROG "hp-probe-client"
#define USAGE "hp-probe-client [ -t millisecs ] socket mode [ args... ]"
#define MAXFDS 256

struct answer_s
{
  unsigned char *s ;
  uint32_t len ;
  unsigned int nfds ;
  int fds[MAXFDS] ;
} ;

static int connect_to (char const *path)
{
  struct sockaddr_un sa ;
  int s ;
  if (strlen(path) >= sizeof(sa.sun_path)) { errno = ENAMETOOLONG ; hp_die(100, PROG, "socket path") ; }
  memset(&sa, 0, sizeof(sa)) ;
  sa.sun_family = AF_UNIX ;
  strcpy(sa.sun_path, path) ;
  s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) ;
  if (s < 0) hp_die(111, PROG, "socket") ;
  if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) hp_die(111, PROG, "connect") ;
  return s ;
}

/* Sends everything; the fds ride on the first byte. A daemon that hangs up
   on us half-way is a legitimate answer to garbage: report it, go on. */
static void send_raw (int s, void const *buf, size_t len, int const *fds, unsigned int nfds)
{
  char const *p = buf ;
  union { struct cmsghdr h ; char buf[CMSG_SPACE(sizeof(int) * MAXFDS)] ; } ctl ;
  while (len || nfds)
  {
    struct iovec v = { .iov_base = (void *)p, .iov_len = len } ;
    struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 } ;
    ssize_t r ;
    if (nfds)
    {
      struct cmsghdr *c ;
      memset(&ctl, 0, sizeof(ctl)) ;
      m.msg_control = ctl.buf ;
      m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds) ;
      c = CMSG_FIRSTHDR(&m) ;
      c->cmsg_level = SOL_SOCKET ;
      c->cmsg_type = SCM_RIGHTS ;
      c->cmsg_len = CMSG_LEN(sizeof(int) * nfds) ;
      memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds) ;
    }
    r = sendmsg(s, &m, MSG_NOSIGNAL) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      if (errno == EPIPE || errno == ECONNRESET) { printf("send=%s\n", errno == EPIPE ? "epipe" : "reset") ; return ; }
      hp_die(111, PROG, "sendmsg") ;
    }
    nfds = 0 ;
    p += r ; len -= (size_t)r ;
  }
}

static void send_msg (int s, void const *body, size_t len, int const *fds, unsigned int nfds)
{
  unsigned char *buf = malloc(6 + len) ;
  if (!buf) hp_die(111, PROG, "malloc") ;
  buf[0] = (unsigned char)(len >> 24) ; buf[1] = (unsigned char)(len >> 16) ;
  buf[2] = (unsigned char)(len >> 8) ; buf[3] = (unsigned char)len ;
  buf[4] = (unsigned char)(nfds >> 8) ; buf[5] = (unsigned char)nfds ;
  if (len) memcpy(buf + 6, body, len) ;
  send_raw(s, buf, 6 + len, fds, nfds) ;
  free(buf) ;
}

/* Reads exactly len bytes before the deadline, collecting any fds.
   1: done, 0: eof, -1: deadline, -2: connection reset. */
static int recv_exact (int s, unsigned char *buf, size_t len, long long deadline, struct answer_s *a)
{
  while (len)
  {
    union { struct cmsghdr h ; char buf[CMSG_SPACE(sizeof(int) * MAXFDS)] ; } ctl ;
    struct iovec v = { .iov_base = buf, .iov_len = len } ;
    struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) } ;
    struct pollfd x = { .fd = s, .events = POLLIN } ;
    long long left = deadline - hp_now_ms() ;
    ssize_t r ;
    if (left <= 0) return -1 ;
    r = poll(&x, 1, (int)left) ;
    if (r < 0) { if (errno == EINTR) continue ; hp_die(111, PROG, "poll") ; }
    if (!r) return -1 ;
    r = recvmsg(s, &m, MSG_CMSG_CLOEXEC) ;
    if (r < 0)
    {
      if (errno == EINTR || errno == EAGAIN) continue ;
      if (errno == ECONNRESET) return -2 ;
      hp_die(111, PROG, "recvmsg") ;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m) ; c ; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) ;
        int const *f = (int const *)CMSG_DATA(c) ;
        for (size_t i = 0 ; i < n ; i++)
        {
          if (a->nfds < MAXFDS) a->fds[a->nfds++] = f[i] ;
          else close(f[i]) ;
        }
      }
    if (!r) return 0 ;
    buf += r ; len -= (size_t)r ;
  }
  return 1 ;
}

static int recv_answer (int s, long long deadline, struct answer_s *a)
{
  unsigned char h[6] ;
  int r = recv_exact(s, h, 6, deadline, a) ;
  if (r <= 0) return r ;
  a->len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3] ;
  if (a->len > (1U << 28)) { printf("answer=badlength len=%lu\n", (unsigned long)a->len) ; exit(0) ; }
  a->s = malloc(a->len + 1) ;
  if (!a->s) hp_die(111, PROG, "malloc") ;
  r = recv_exact(s, a->s, a->len, deadline, a) ;
  if (r <= 0) return r ;
  a->s[a->len] = 0 ;
  return 1 ;
}

static uint64_t unpack64 (unsigned char const *s)
{
  uint64_t u = 0 ;
  for (int i = 0 ; i < 8 ; i++) u = u << 8 | s[i] ;
  return u ;
}

/* After an error answer or an eof: does the connection end within 5 s?
   (generous: the daemon may flush the answer and close later, on a timer) */
static void check_closed (int s)
{
  long long deadline = hp_now_ms() + 5000 ;
  for (;;)
  {
    unsigned char c ;
    struct answer_s junk = { .nfds = 0 } ;
    int r = recv_exact(s, &c, 1, deadline, &junk) ;
    for (unsigned int i = 0 ; i < junk.nfds ; i++) close(junk.fds[i]) ;
    if (r == 1) continue ;
    printf("closed=%d\n", r == 0 || r == -2) ;
    return ;
  }
}

static void print_answer (int r, struct answer_s const *a, int isclaim)
{
  if (r == 0) printf("answer=eof\n") ;
  else if (r == -1) printf("answer=none\n") ;
  else if (r == -2) printf("answer=reset\n") ;
  else if (!a->len) printf("answer=empty len=0 nfds=%u\n", a->nfds) ;
  else
  {
    printf("answer=%u len=%lu nfds=%u\n", a->s[0], (unsigned long)a->len, a->nfds) ;
    if (isclaim && a->s[0] == 0 && a->len >= 18)
    {
      unsigned char const *k = a->s + 17 ;
      int terminated = memchr(k, 0, a->len - 17) != 0 ;
      printf("lease=%llu size=%llu kind=%s\n", (unsigned long long)unpack64(a->s + 1),
        (unsigned long long)unpack64(a->s + 9), terminated ? (char const *)k : "(unterminated)") ;
    }
  }
}

static size_t claim_body (unsigned char *buf, size_t max, char const *pool, unsigned char flags, int nul)
{
  size_t n = strlen(pool) ;
  if (n + 7 > max) { errno = 0 ; hp_die(100, PROG, "pool name too long") ; }
  buf[0] = 'C' ;
  buf[1] = flags ;
  buf[2] = buf[3] = buf[4] = buf[5] = 0xff ;
  memcpy(buf + 6, pool, n) ;
  if (nul) buf[6 + n++] = 0 ;
  return 6 + n ;
}

int main (int argc, char const *const *argv)
{
  long timeout = 5000 ;
  struct answer_s a = { .s = 0, .len = 0, .nfds = 0 } ;
  unsigned char buf[4200] ;
  char const *mode ;
  int s, r, expect_close = 1 ;
  long hold = 0 ;

  if (argc >= 3 && !strcmp(argv[1], "-t"))
  {
    unsigned long long u ;
    if (!hp_scan_ull(argv[2], &u) || u > 3600000) hp_dieusage(PROG, USAGE) ;
    timeout = (long)u ;
    argv += 2 ; argc -= 2 ;
  }
  if (argc < 3) hp_dieusage(PROG, USAGE) ;
  mode = argv[2] ;
  s = connect_to(argv[1]) ;

  if (!strcmp(mode, "junk"))
  {
    memset(buf, 0xff, 32) ;
    send_raw(s, buf, 32, 0, 0) ;
  }
  else if (!strcmp(mode, "noise"))
  {
    uint32_t x = 2463534242U ;
    for (size_t i = 0 ; i < 4096 ; i++) { x ^= x << 13 ; x ^= x >> 17 ; x ^= x << 5 ; buf[i] = (unsigned char)x ; }
    send_raw(s, buf, 4096, 0, 0) ;
  }
  else if (!strcmp(mode, "shorthead"))
  {
    send_raw(s, "\0\0\0", 3, 0, 0) ;
    printf("answer=skipped\n") ;
    return 0 ;
  }
  else if (!strcmp(mode, "shortbody"))
  {
    static unsigned char const m[11] = { 0, 0, 0, 100, 0, 0, 'C', 0, 0xff, 0xff, 0xff } ;
    send_raw(s, m, sizeof(m), 0, 0) ;
    printf("answer=skipped\n") ;
    return 0 ;
  }
  else if (!strcmp(mode, "hold-shorthead"))
  {
    unsigned long long secs ;
    if (argc < 4 || !hp_scan_ull(argv[3], &secs)) hp_dieusage(PROG, USAGE) ;
    send_raw(s, "\0\0\0", 3, 0, 0) ;
    hp_sleep_ms((long)secs * 1000) ;
    printf("answer=skipped\n") ;
    return 0 ;
  }
  else if (!strcmp(mode, "hugelen"))
  {
    static unsigned char const m[22] = { 0x0f, 0xff, 0xff, 0xff, 0, 0, 'C', 0, 0xff, 0xff, 0xff, 0xff, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x' } ;
    send_raw(s, m, sizeof(m), 0, 0) ;
    printf("answer=skipped\n") ;
    return 0 ;
  }
  else if (!strcmp(mode, "empty")) send_msg(s, "", 0, 0, 0) ;
  else if (!strcmp(mode, "unknown")) send_msg(s, "Z", 1, 0, 0) ;
  else if (!strcmp(mode, "claim-short")) send_msg(s, "C", 1, 0, 0) ;
  else if (!strcmp(mode, "claim-nonul"))
  {
    if (argc < 4) hp_dieusage(PROG, USAGE) ;
    send_msg(s, buf, claim_body(buf, sizeof(buf), argv[3], 1, 0), 0, 0) ;
  }
  else if (!strcmp(mode, "revoke-short")) send_msg(s, "R\0\0\0", 4, 0, 0) ;
  else if (!strcmp(mode, "fdflood"))
  {
    int fds[200] ;
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC) ;
    if (nul < 0) hp_die(111, PROG, "open /dev/null") ;
    for (int i = 0 ; i < 200 ; i++) fds[i] = nul ;
    send_msg(s, "Z", 1, fds, 200) ;
    close(nul) ;
  }
  else if (!strcmp(mode, "claim") || !strcmp(mode, "claim-with-fd"))
  {
    unsigned char flags = 0 ;
    int nul = -1 ;
    if (argc < 4) hp_dieusage(PROG, USAGE) ;
    for (int i = 4 ; i < argc ; i++)
    {
      unsigned long long u ;
      if (!strcmp(argv[i], "nowait")) flags = 1 ;
      else if (hp_scan_ull(argv[i], &u)) hold = (long)u ;
      else hp_dieusage(PROG, USAGE) ;
    }
    if (!strcmp(mode, "claim-with-fd"))
    {
      nul = open("/dev/null", O_RDONLY | O_CLOEXEC) ;
      if (nul < 0) hp_die(111, PROG, "open /dev/null") ;
    }
    send_msg(s, buf, claim_body(buf, sizeof(buf), argv[3], flags, 1), &nul, nul >= 0) ;
    if (nul >= 0) close(nul) ;
    expect_close = 0 ;
  }
  else if (!strcmp(mode, "status"))
  {
    send_msg(s, "S\0", 2, 0, 0) ;
    expect_close = 0 ;
  }
  else hp_dieusage(PROG, USAGE) ;

  r = recv_answer(s, hp_now_ms() + timeout, &a) ;
  print_answer(r, &a, !strncmp(mode, "claim", 5)) ;
  if (r == 1 && !strcmp(mode, "status") && a.len > 1) fwrite(a.s + 1, 1, a.len - 1, stdout) ;
  if (r == 1 && a.len && a.s[0] == 0 && hold) { fflush(stdout) ; hp_sleep_ms(hold) ; }
  if (r == 0 || r == -2 || (expect_close && r == 1)) check_closed(s) ;
  for (unsigned int i = 0 ; i < a.nfds ; i++) close(a.fds[i]) ;
  close(s) ;
  return fflush(stdout) ? 111 : 0 ;
}
