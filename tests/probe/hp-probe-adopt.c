/* ISC license. */

/* hp-probe-adopt [ -l ] helper kind size mode [ dir ]
   Runs a holdingpen-helper alone with -A -P -R (and -l) on a socketpair, as a
   restarted holdingpend would, and gives it back a resource that this
   probe made itself, as a previous helper would have: a sealed memfd
   (on hugetlbfs for hugetlb), or a nameless file in dir, allocated in
   full, with a token written at its start.
   Modes:
     adopt    a + the resource: the helper should answer r with that very
              resource, allocating nothing; then (ballast) g, x; then e:
              the resource is emptied, and a new one comes with r
     bad      a + a memfd of half the size: the helper should drop it and
              answer r with a fresh one
     held     h + the resource: no answer; then e: emptied, r with a new one
     foreign  h + a file of dir that has a name (not one a helper makes):
              dropped without being touched; e: r with a new one
     first-e  e first: nothing given back, r with a fresh resource
     eof      nothing: end of file before any command
   Prints key=value lines:
     first=C nfds=N    the helper's first message (none: nothing in 500 ms)
     held_vmlck=       (held, foreign) the helper's VmLck while it is quiet
     same=0|1          the fd of r is the resource given (same dev and inode)
     token=0|1         the token is still at its start
     size= blocks=     st_size and st_blocks * 512 of the fd of r
     shmem_grew= hugefree_dropped= avail_dropped=
                       bytes of Shmem gained, hugepages gone, bytes of dir's
                       filesystem gone between before the helper ran and r
     vmlck=            the helper's VmLck after r, bytes
     give=C vmlck_given= given_blocks=
                       (ballast) the answer to g, then the helper's VmLck
                       and the resource's allocated bytes
     second=C nfds=N   the answer to e
     old_nonzero= old_blocks=
                       non-zero bytes left in the old resource, and its
                       allocated bytes, after e
     second_same=0|1   the fd of the second r is the old resource
     second_blocks=    allocated bytes of the fd of the second r
     exit=N stderr=quiet|said
                       after our end is closed; the OOM-score warning is
                       not counted. The helper's stderr is copied to ours. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>

#include "hp-probe.h"

#define PROG "hp-probe-adopt"
#define USAGE "hp-probe-adopt [ -l ] helper kind size mode [ dir ]"
#define TOKEN "holdingpen-adopt-token"

 /* a skalibs unixmessage: length:u32 nfds:u16, big-endian, then the payload; the fd rides on the first byte */
static void send_cmd (int s, char const *body, size_t len, int fd)
{
  unsigned char buf[6 + 16] ;
  union { struct cmsghdr h ; char buf[CMSG_SPACE(sizeof(int))] ; } ctl ;
  struct iovec v = { .iov_base = buf, .iov_len = 6 + len } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 } ;
  buf[0] = 0 ; buf[1] = 0 ; buf[2] = 0 ; buf[3] = (unsigned char)len ;
  buf[4] = 0 ; buf[5] = fd >= 0 ;
  memcpy(buf + 6, body, len) ;
  if (fd >= 0)
  {
    struct cmsghdr *c ;
    memset(&ctl, 0, sizeof(ctl)) ;
    m.msg_control = ctl.buf ;
    m.msg_controllen = sizeof(ctl.buf) ;
    c = CMSG_FIRSTHDR(&m) ;
    c->cmsg_level = SOL_SOCKET ;
    c->cmsg_type = SCM_RIGHTS ;
    c->cmsg_len = CMSG_LEN(sizeof(int)) ;
    memcpy(CMSG_DATA(c), &fd, sizeof(int)) ;
  }
  if (sendmsg(s, &m, MSG_NOSIGNAL) != (ssize_t)(6 + len)) hp_die(111, PROG, "send a command to the helper") ;
}

 /* Reads exactly len bytes within ms, keeping the one fd that may come. 1 done, 0 eof, -1 timeout. */
static int recv_exact (int s, unsigned char *buf, size_t len, long long deadline, int *fd)
{
  while (len)
  {
    union { struct cmsghdr h ; char buf[CMSG_SPACE(sizeof(int) * 4)] ; } ctl ;
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
    if (r < 0) { if (errno == EINTR) continue ; if (errno == ECONNRESET) return 0 ; hp_die(111, PROG, "recvmsg") ; }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m) ; c ; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) ;
        int const *f = (int const *)CMSG_DATA(c) ;
        for (size_t i = 0 ; i < n ; i++)
          if (*fd < 0) *fd = f[i] ; else close(f[i]) ;
      }
    if (!r) return 0 ;
    buf += r ; len -= (size_t)r ;
  }
  return 1 ;
}

 /* The helper's next message: its first byte ('-': none within ms, '0': eof), *fd the fd it carried or -1. */
static char recv_msg (int s, long long ms, int *fd, unsigned int *nfds)
{
  unsigned char h[6], body[64] ;
  uint32_t len ;
  long long deadline = hp_now_ms() + ms ;
  int r ;
  *fd = -1 ;
  r = recv_exact(s, h, 6, deadline, fd) ;
  if (r <= 0) return r ? '-' : '0' ;
  len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3] ;
  *nfds = (unsigned int)h[4] << 8 | h[5] ;
  if (!len || len > sizeof(body)) { errno = 0 ; hp_die(111, PROG, "a message of a strange length from the helper") ; }
  r = recv_exact(s, body, len, deadline, fd) ;
  if (r <= 0) return r ? '-' : '0' ;
  return (char)body[0] ;
}

static unsigned long long meminfo (char const *key)
{
  char line[256] ;
  size_t klen = strlen(key) ;
  unsigned long long v = 0 ;
  FILE *f = fopen("/proc/meminfo", "r") ;
  if (!f) hp_die(111, PROG, "open /proc/meminfo") ;
  while (fgets(line, sizeof(line), f))
    if (!strncmp(line, key, klen) && line[klen] == ':') { v = strtoull(line + klen + 1, 0, 10) ; break ; }
  fclose(f) ;
  return v ;
}

static long long vmlck (pid_t pid)
{
  char path[64], line[256] ;
  long long v = -1 ;
  FILE *f ;
  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid) ;
  f = fopen(path, "r") ;
  if (!f) return -1 ;
  while (fgets(line, sizeof(line), f))
    if (!strncmp(line, "VmLck:", 6)) { v = strtoll(line + 6, 0, 10) * 1024 ; break ; }
  fclose(f) ;
  return v ;
}

static long long avail (char const *dir)
{
  struct statvfs sv ;
  if (!dir) return 0 ;
  if (statvfs(dir, &sv) < 0) hp_die(111, PROG, "statvfs dir") ;
  return (long long)sv.f_bavail * (long long)sv.f_frsize ;
}

static int same_file (int a, int b)
{
  struct stat sa, sb ;
  if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0) hp_die(111, PROG, "fstat") ;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino ;
}

static long long blocks (int fd)
{
  struct stat st ;
  if (fstat(fd, &st) < 0) hp_die(111, PROG, "fstat") ;
  return (long long)st.st_blocks * 512 ;
}

static int has_token (int fd)
{
  char buf[sizeof(TOKEN)] ;
  return pread(fd, buf, sizeof(TOKEN), 0) == (ssize_t)sizeof(TOKEN) && !memcmp(buf, TOKEN, sizeof(TOKEN)) ;
}

 /* What a previous helper would have made, allocated in full, with the token at its start. */
static int make_resource (char const *kind, size_t size, char const *dir, int named)
{
  int fd ;
  int mem = !strcmp(kind, "memfd") || !strcmp(kind, "hugetlb") || !strcmp(kind, "ballast-mem") ;
  if (mem)
  {
    fd = memfd_create("adopt", MFD_CLOEXEC | MFD_ALLOW_SEALING | (!strcmp(kind, "hugetlb") ? MFD_HUGETLB : 0)) ;
    if (fd < 0) hp_die(111, PROG, "memfd_create") ;
  }
  else
  {
    if (!dir) { errno = 0 ; hp_die(100, PROG, "file kinds need dir") ; }
    if (named)
    {
      size_t len = strlen(dir) ;
      char name[len + 9] ;
      memcpy(name, dir, len) ;
      memcpy(name + len, "/foreign", 9) ;
      fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600) ;
    }
    else fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) ;
    if (fd < 0) hp_die(111, PROG, "create a file in dir") ;
  }
  if (fallocate(fd, 0, 0, (off_t)size) < 0) hp_die(111, PROG, "fallocate") ;
  if (mem && fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) hp_die(111, PROG, "seal") ;
  if (!strcmp(kind, "hugetlb"))
  {
     /* hugetlbfs has no write(): through a mapping */
    unsigned char *p = hp_map(PROG, fd, size, PROT_READ | PROT_WRITE) ;
    memcpy(p, TOKEN, sizeof(TOKEN)) ;
    munmap(p, size) ;
  }
  else if (pwrite(fd, TOKEN, sizeof(TOKEN), 0) != (ssize_t)sizeof(TOKEN)) hp_die(111, PROG, "write the token") ;
  return fd ;
}

int main (int argc, char **argv)
{
  int sv[2], errpipe[2] ;
  char const *kind, *mode, *dir ;
  unsigned long long usize ;
  size_t size ;
  int ballast, fd = -1, rfd = -1, sfd = -1 ;
  unsigned int nfds = 0 ;
  unsigned long long shmem0, huge0 ;
  long long avail0 ;
  pid_t pid ;
  char c ;
  int lock = argc > 1 && !strcmp(argv[1], "-l") ;
  if (lock) { argv[1] = argv[0] ; argv++ ; argc-- ; }
  if (argc != 5 && argc != 6) hp_dieusage(PROG, USAGE) ;
  kind = argv[2] ; mode = argv[4] ; dir = argc == 6 ? argv[5] : 0 ;
  if (!hp_scan_ull(argv[3], &usize) || !usize) hp_dieusage(PROG, USAGE) ;
  size = (size_t)usize ;
  ballast = !strncmp(kind, "ballast-", 8) ;

  if (!strcmp(mode, "adopt") || !strcmp(mode, "held")) fd = make_resource(kind, size, dir, 0) ;
  else if (!strcmp(mode, "bad")) fd = make_resource(kind, size / 2, dir, 0) ;
  else if (!strcmp(mode, "foreign")) fd = make_resource(kind, size, dir, 1) ;
  else if (strcmp(mode, "first-e") && strcmp(mode, "eof")) hp_dieusage(PROG, USAGE) ;
  shmem0 = meminfo("Shmem") * 1024 ;
  huge0 = meminfo("HugePages_Free") ;
  avail0 = avail(dir) ;

  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe(errpipe) < 0) hp_die(111, PROG, "socketpair") ;
  pid = fork() ;
  if (pid < 0) hp_die(111, PROG, "fork") ;
  if (!pid)
  {
    char *args[11] ;
    unsigned int n = 0 ;
    args[n++] = argv[1] ; args[n++] = "-A" ; args[n++] = "-P" ; args[n++] = "-R" ;
    if (lock) args[n++] = "-l" ;
    args[n++] = "-p" ; args[n++] = "adopt" ;
    if (dir) { args[n++] = "-D" ; args[n++] = (char *)dir ; }
    args[n++] = (char *)kind ; args[n++] = argv[3] ; args[n] = 0 ;
    if (dup2(sv[1], 1) < 0 || dup2(errpipe[1], 2) < 0) _exit(111) ;
    execv(argv[1], args) ;
    _exit(127) ;
  }
  close(sv[1]) ;
  close(errpipe[1]) ;

  if (!strcmp(mode, "eof")) goto end ;
  if (!strcmp(mode, "first-e")) send_cmd(sv[0], "e", 1, -1) ;
  else send_cmd(sv[0], !strcmp(mode, "held") || !strcmp(mode, "foreign") ? "h" : "a", 1, fd) ;

  if (!strcmp(mode, "held") || !strcmp(mode, "foreign"))
  {
    c = recv_msg(sv[0], 500, &rfd, &nfds) ;
    printf("first=%c\nheld_vmlck=%lld\n", c, vmlck(pid)) ;
    if (c != '-') goto end ;
  }
  else
  {
    c = recv_msg(sv[0], 30000, &rfd, &nfds) ;
    printf("first=%c nfds=%u\n", c, nfds) ;
    if (c != 'r' || rfd < 0) goto end ;
    if (fd >= 0) printf("same=%d\n", same_file(fd, rfd)) ;
    printf("token=%d\n", has_token(rfd)) ;
    printf("size=%zu\nblocks=%lld\n", hp_fdsize(PROG, rfd), blocks(rfd)) ;
    printf("shmem_grew=%lld\n", (long long)(meminfo("Shmem") * 1024) - (long long)shmem0) ;
    printf("hugefree_dropped=%lld\n", (long long)huge0 - (long long)meminfo("HugePages_Free")) ;
    printf("avail_dropped=%lld\n", avail0 - avail(dir)) ;
    printf("vmlck=%lld\n", vmlck(pid)) ;
    if (ballast)
    {
      int xfd ;
      send_cmd(sv[0], "g", 1, -1) ;
      c = recv_msg(sv[0], 30000, &xfd, &nfds) ;
      printf("give=%c\nvmlck_given=%lld\ngiven_blocks=%lld\n", c, vmlck(pid), blocks(rfd)) ;
      if (xfd >= 0) close(xfd) ;
      if (c != 'x') goto end ;
    }
     /* from now on, the old resource is the one the helper said r with */
    if (fd >= 0) close(fd) ;
    fd = rfd ;
  }

  {
     /* e lease:u64 */
    static char const e[9] = { 'e', 0, 0, 0, 0, 0, 0, 0, 7 } ;
    send_cmd(sv[0], e, sizeof(e), -1) ;
  }
  c = recv_msg(sv[0], 30000, &sfd, &nfds) ;
  printf("second=%c nfds=%u\n", c, nfds) ;
  if (fd >= 0)
  {
    long long first ;
    printf("old_nonzero=%zu\nold_blocks=%lld\n", hp_count_nonzero_fd(PROG, fd, size, &first), blocks(fd)) ;
  }
  if (sfd >= 0)
  {
    if (fd >= 0) printf("second_same=%d\n", same_file(fd, sfd)) ;
    printf("second_blocks=%lld\n", blocks(sfd)) ;
  }

 end:
  close(sv[0]) ;
  {
    static char buf[65536] ;
    size_t len = 0, said = 0 ;
    int wstat ;
    for (;;)
    {
      ssize_t r = read(errpipe[0], buf + len, sizeof(buf) - 1 - len) ;
      if (r <= 0) break ;
      len += (size_t)r ;
    }
    fwrite(buf, 1, len, stderr) ;
    buf[len] = 0 ;
     /* lines, but the OOM-score warning, which is about this machine, not about the helper */
    for (char *line = buf ; *line ; )
    {
      char *nl = strchr(line, '\n') ;
      if (nl) *nl = 0 ;
      if (!strstr(line, "oom_score_adj")) said++ ;
      if (!nl) break ;
      line = nl + 1 ;
    }
    if (waitpid(pid, &wstat, 0) < 0) hp_die(111, PROG, "waitpid") ;
    if (WIFEXITED(wstat)) printf("exit=%d\n", WEXITSTATUS(wstat)) ;
    else printf("signal=%d\n", WTERMSIG(wstat)) ;
    printf("stderr=%s\n", said ? "said" : "quiet") ;
  }
  return 0 ;
}
