/* ISC license. */

/* hp-probe-hostile socket mode [ args... ]
   A hostile client of holdingpend, with libc only: what no real client
   does, in quantity. Frames are as in hp-probe-client.c: a header (length
   uint32 big-endian, number of fds uint16 big-endian), then the payload;
   fds travel as SCM_RIGHTS.
   Modes:
     trickle N LEN SECS MAX
         N connections, each sends a header announcing LEN bytes and no
         fd, then, for SECS seconds, as many payload bytes as the daemon
         takes, at most MAX per connection. Prints "answers=A closed=C
         sent=BYTES": A connections were answered 100 (bad request), C
         saw the daemon close them.
     fds POOL N
         a claim on POOL whose header says 0 fds, with N fds (/dev/null)
         in SCM_RIGHTS. Prints "answer=CODE nfds=K" (the fds the answer
         carried), answer=eof or answer=none, then "closed=1" if the
         daemon closed the connection within 5 s, else "closed=0".
     hold N SECS
         opens N connections (non-blocking connects: those the daemon's
         backlog refuses are not retried), says nothing on them; prints
         "connected=K" and keeps them SECS seconds.
     churn SPEC SECS
         opens and closes connections as SPEC says, a comma-separated
         list of +N (open N more), -N (close the N last opened) and
         <N (close the N first opened), in
         order; says nothing on them; prints "open=K" and keeps the
         ones left open SECS seconds.
     flood SECS
         connects (waiting for room in the backlog) and closes at once,
         as fast as it can, for SECS seconds; prints "connections=K".
     claimfork POOL FILE
         sends a claim on POOL (no deadline), forks, and exits at once:
         the child keeps the connection, reads the answer, appends
         "answer=CODE" (or answer=eof) to FILE, and sleeps on the lease
         until killed. The parent first writes "child=PID" to FILE.
   Exit 0 whatever the daemon did; 100 usage, 111 system error. */

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
#include <signal.h>
#include <time.h>

#include "hp-probe.h"

#define PROG "hp-probe-hostile"
#define USAGE "hp-probe-hostile socket trickle|fds|hold|churn|flood|claimfork args..."
#define MAXCONN 4096
#define CHUNK 65536

static unsigned long long arg_ull (char const *s, unsigned long long max)
{
  unsigned long long u ;
  if (!hp_scan_ull(s, &u) || u > max) hp_dieusage(PROG, USAGE) ;
  return u ;
}

/* -1 if the connection cannot be made without waiting (full backlog) */
static int connect_to (char const *path, int nonblock)
{
  struct sockaddr_un sa ;
  int s ;
  if (strlen(path) >= sizeof(sa.sun_path)) { errno = ENAMETOOLONG ; hp_die(100, PROG, "socket path") ; }
  memset(&sa, 0, sizeof(sa)) ;
  sa.sun_family = AF_UNIX ;
  strcpy(sa.sun_path, path) ;
  s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0) ;
  if (s < 0) hp_die(111, PROG, "socket") ;
  if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
  {
    if (nonblock && (errno == EAGAIN || errno == EINPROGRESS)) { close(s) ; return -1 ; }
    hp_die(111, PROG, "connect") ;
  }
  return s ;
}

static void put_header (unsigned char *h, uint32_t len, uint16_t nfds)
{
  h[0] = (unsigned char)(len >> 24) ; h[1] = (unsigned char)(len >> 16) ;
  h[2] = (unsigned char)(len >> 8) ; h[3] = (unsigned char)len ;
  h[4] = (unsigned char)(nfds >> 8) ; h[5] = (unsigned char)nfds ;
}

/* header (saying 0 fds) + C flags millisecs pool NUL */
static size_t claim_frame (unsigned char *buf, size_t max, char const *pool)
{
  size_t n = strlen(pool) ;
  if (n + 13 > max) hp_dieusage(PROG, USAGE) ;
  put_header(buf, (uint32_t)(n + 7), 0) ;
  buf[6] = 'C' ; buf[7] = 0 ;
  buf[8] = buf[9] = buf[10] = buf[11] = 0xff ;
  memcpy(buf + 12, pool, n + 1) ;
  return n + 13 ;
}

static int send_with_fds (int s, void const *buf, size_t len, int fd, unsigned int nfds)
{
  union { struct cmsghdr h ; char buf[CMSG_SPACE(sizeof(int) * 253)] ; } ctl ;
  struct iovec v = { .iov_base = (void *)buf, .iov_len = len } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 } ;
  if (nfds > 253) nfds = 253 ;
  if (nfds)
  {
    struct cmsghdr *c ;
    int *fds ;
    memset(&ctl, 0, sizeof(ctl)) ;
    m.msg_control = ctl.buf ;
    m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds) ;
    c = CMSG_FIRSTHDR(&m) ;
    c->cmsg_level = SOL_SOCKET ;
    c->cmsg_type = SCM_RIGHTS ;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds) ;
    fds = (int *)CMSG_DATA(c) ;
    for (unsigned int i = 0 ; i < nfds ; i++) fds[i] = fd ;
  }
  return sendmsg(s, &m, MSG_NOSIGNAL) == (ssize_t)len ;
}

/* The answer's code: -1 eof or reset, -2 nothing before the deadline. Counts the fds it carried. */
static int read_answer (int s, long long deadline, unsigned int *nfds)
{
  unsigned char buf[7] ;
  size_t got = 0 ;
  *nfds = 0 ;
  while (got < sizeof(buf))
  {
    union { struct cmsghdr h ; char buf[CMSG_SPACE(sizeof(int) * 8)] ; } ctl ;
    struct iovec v = { .iov_base = buf + got, .iov_len = sizeof(buf) - got } ;
    struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) } ;
    struct pollfd p = { .fd = s, .events = POLLIN } ;
    long long left = deadline - hp_now_ms() ;
    ssize_t r ;
    if (left <= 0) return -2 ;
    if (poll(&p, 1, (int)left) <= 0) continue ;
    r = recvmsg(s, &m, MSG_CMSG_CLOEXEC) ;
    if (r < 0) { if (errno == EINTR || errno == EAGAIN) continue ; return -1 ; }
    if (!r) return -1 ;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m) ; c ; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) ;
        int fds[8] ;
        memcpy(fds, CMSG_DATA(c), k * sizeof(int)) ;
        for (size_t i = 0 ; i < k ; i++) close(fds[i]) ;
        *nfds += k ;
      }
    got += (size_t)r ;
  }
  return buf[6] ;
}

/* 1 if the daemon closes its end before the deadline (reading whatever comes) */
static int wait_closed (int s, long long deadline)
{
  char buf[4096] ;
  for (;;)
  {
    struct pollfd p = { .fd = s, .events = POLLIN } ;
    long long left = deadline - hp_now_ms() ;
    ssize_t r ;
    if (left <= 0) return 0 ;
    if (poll(&p, 1, (int)left) <= 0) continue ;
    r = recv(s, buf, sizeof(buf), MSG_DONTWAIT) ;
    if (!r || (r < 0 && errno != EAGAIN && errno != EINTR)) return 1 ;
  }
}

struct trickler_s
{
  int fd ;
  int answered ;
  int closed ;
  unsigned long long sent ;
  size_t have ;
  unsigned char in[7] ;
} ;

static int trickle_step (struct trickler_s *t, char const *chunk, unsigned long long max)
{
  int moved = 0 ;
  if (t->closed && t->have == sizeof(t->in)) return 0 ;
  if (!t->closed && t->sent < max)
  {
    size_t want = max - t->sent < CHUNK ? (size_t)(max - t->sent) : CHUNK ;
    ssize_t r = send(t->fd, chunk, want, MSG_DONTWAIT | MSG_NOSIGNAL) ;
    if (r > 0) { t->sent += (size_t)r ; moved = 1 ; }
    else if (r < 0 && errno != EAGAIN && errno != EINTR) { t->closed = 1 ; moved = 1 ; }
  }
   /* what the daemon said before it closed is still there to read */
  for (;;)
  {
    unsigned char buf[4096] ;
    ssize_t r = recv(t->fd, buf, sizeof(buf), MSG_DONTWAIT) ;
    if (r < 0) { if (errno != EAGAIN && errno != EINTR) t->closed = 1 ; break ; }
    if (!r) { t->closed = 1 ; break ; }
    moved = 1 ;
    for (ssize_t i = 0 ; i < r && t->have < sizeof(t->in) ; i++) t->in[t->have++] = buf[i] ;
    if (t->have == sizeof(t->in) && t->in[6] == 100) t->answered = 1 ;
  }
  return moved ;
}

static int do_trickle (char const *path, char const *const *argv)
{
  static struct trickler_s t[64] ;
  static char chunk[CHUNK] ;
  unsigned int n = arg_ull(argv[0], 64) ;
  unsigned long long len = arg_ull(argv[1], 0xffffffffULL) ;
  long long deadline = hp_now_ms() + 1000 * (long long)arg_ull(argv[2], 3600) ;
  unsigned long long max = arg_ull(argv[3], 1ULL << 40) ;
  unsigned long long total = 0 ;
  unsigned int answers = 0, closed = 0 ;
  memset(chunk, 'x', sizeof(chunk)) ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    unsigned char h[6] ;
    t[i].fd = connect_to(path, 0) ;
    put_header(h, (uint32_t)len, 0) ;
    if (send(t[i].fd, h, 6, MSG_NOSIGNAL) != 6) t[i].closed = 1 ;
  }
  while (hp_now_ms() < deadline)
  {
    int moved = 0 ;
    unsigned int open = 0 ;
    for (unsigned int i = 0 ; i < n ; i++)
    {
      moved |= trickle_step(t + i, chunk, max) ;
      if (!t[i].closed) open++ ;
    }
    if (!open) break ;
    if (!moved) hp_sleep_ms(5) ;
  }
  for (unsigned int i = 0 ; i < n ; i++)
  {
    trickle_step(t + i, chunk, 0) ;
    answers += t[i].answered ;
    closed += t[i].closed ;
    total += t[i].sent ;
  }
  printf("answers=%u closed=%u sent=%llu\n", answers, closed, total) ;
  return 0 ;
}

static int do_fds (char const *path, char const *const *argv)
{
  unsigned char buf[128] ;
  unsigned int nfds ;
  size_t len = claim_frame(buf, sizeof(buf), argv[0]) ;
  unsigned int n = arg_ull(argv[1], 253) ;
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC) ;
  int s = connect_to(path, 0) ;
  int code ;
  if (null < 0) hp_die(111, PROG, "open /dev/null") ;
  if (!send_with_fds(s, buf, len, null, n)) hp_die(111, PROG, "sendmsg") ;
  code = read_answer(s, hp_now_ms() + 5000, &nfds) ;
  if (code >= 0) printf("answer=%d nfds=%u\n", code, nfds) ;
  else printf("answer=%s\n", code == -1 ? "eof" : "none") ;
  printf("closed=%d\n", code == -1 || wait_closed(s, hp_now_ms() + 5000)) ;
  return 0 ;
}

static int do_hold (char const *path, char const *const *argv)
{
  unsigned int n = arg_ull(argv[0], MAXCONN) ;
  unsigned int secs = arg_ull(argv[1], 3600) ;
  unsigned int k = 0 ;
  for (unsigned int i = 0 ; i < n ; i++) if (connect_to(path, 1) >= 0) k++ ;
  printf("connected=%u\n", k) ;
  fflush(stdout) ;
  sleep(secs) ;
  return 0 ;
}

static int do_churn (char const *path, char const *const *argv)
{
  static int fds[MAXCONN] ;
  unsigned int secs = arg_ull(argv[1], 3600) ;
  unsigned int k = 0 ;
  char const *p = argv[0] ;
  while (*p)
  {
    char sign = *p++ ;
    char num[16] ;
    size_t len = strcspn(p, ",") ;
    unsigned int n ;
    if ((sign != '+' && sign != '-' && sign != '<') || !len || len >= sizeof(num)) hp_dieusage(PROG, USAGE) ;
    memcpy(num, p, len) ; num[len] = 0 ;
    n = arg_ull(num, MAXCONN) ;
    p += len ; if (*p == ',') p++ ;
    if (sign == '+')
      for (unsigned int i = 0 ; i < n && k < MAXCONN ; i++)
      {
        int fd = connect_to(path, 1) ;
        if (fd >= 0) fds[k++] = fd ;
      }
    else if (sign == '-')
      for (unsigned int i = 0 ; i < n && k ; i++) close(fds[--k]) ;
    else
      for (unsigned int i = 0 ; i < n && k ; i++)
      {
        close(fds[0]) ;
        memmove(fds, fds + 1, --k * sizeof(int)) ;
      }
    hp_sleep_ms(100) ;
  }
  printf("open=%u\n", k) ;
  fflush(stdout) ;
  sleep(secs) ;
  return 0 ;
}

static int do_flood (char const *path, char const *const *argv)
{
  long long end = hp_now_ms() + 1000 * (long long)arg_ull(argv[0], 3600) ;
  unsigned long long k = 0 ;
  while (hp_now_ms() < end)
  {
    close(connect_to(path, 0)) ;
    k++ ;
  }
  printf("connections=%llu\n", k) ;
  return 0 ;
}

static void append (char const *file, char const *line)
{
  int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) ;
  if (fd < 0) hp_die(111, PROG, "open the output file") ;
  if (write(fd, line, strlen(line)) < 0) hp_die(111, PROG, "write the output file") ;
  close(fd) ;
}

static int do_claimfork (char const *path, char const *const *argv)
{
  unsigned char buf[128] ;
  char line[64] ;
  size_t len = claim_frame(buf, sizeof(buf), argv[0]) ;
  int s = connect_to(path, 0) ;
  pid_t pid ;
  if (send(s, buf, len, MSG_NOSIGNAL) != (ssize_t)len) hp_die(111, PROG, "send the claim") ;
  pid = fork() ;
  if (pid < 0) hp_die(111, PROG, "fork") ;
  if (!pid)
  {
    unsigned int nfds ;
    int code, null = open("/dev/null", O_RDWR) ;
    if (null >= 0) { dup2(null, 0) ; dup2(null, 1) ; dup2(null, 2) ; if (null > 2) close(null) ; }
    code = read_answer(s, hp_now_ms() + 3600000, &nfds) ;
    if (code >= 0) snprintf(line, sizeof(line), "answer=%d\n", code) ;
    else snprintf(line, sizeof(line), "answer=eof\n") ;
    append(argv[1], line) ;
    for (;;) pause() ;
  }
  snprintf(line, sizeof(line), "child=%ld\n", (long)pid) ;
  append(argv[1], line) ;
  return 0 ;
}

int main (int argc, char const *const *argv)
{
  if (argc < 3) hp_dieusage(PROG, USAGE) ;
  if (!strcmp(argv[2], "trickle") && argc == 7) return do_trickle(argv[1], argv + 3) ;
  if (!strcmp(argv[2], "fds") && argc == 5) return do_fds(argv[1], argv + 3) ;
  if (!strcmp(argv[2], "hold") && argc == 5) return do_hold(argv[1], argv + 3) ;
  if (!strcmp(argv[2], "flood") && argc == 4) return do_flood(argv[1], argv + 3) ;
  if (!strcmp(argv[2], "churn") && argc == 5) return do_churn(argv[1], argv + 3) ;
  if (!strcmp(argv[2], "claimfork") && argc == 5) return do_claimfork(argv[1], argv + 3) ;
  hp_dieusage(PROG, USAGE) ;
}
