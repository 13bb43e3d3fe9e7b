/* ISC license. */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <skalibs/uint16.h>
#include <skalibs/uint32.h>
#include <skalibs/djbunix.h>

#include "hpwire.h"

 /*
   The frame at the head of b: 1 and its payload if it is whole, 0 if
   more bytes are needed, HP_FRAME_BAD if its header announces more than
   a request may hold or any descriptor.
 */

static int frame_head (hp_inbuf const *b, char const **s, size_t *len)
{
  uint32_t l ;
  uint16_t n ;
  if (b->len < HP_FRAME_HEADER) return 0 ;
  uint32_unpack_big(b->buf, &l) ;
  uint16_unpack_big(b->buf + 4, &n) ;
  if (l > HOLDINGPEN_REQUEST_MAX || n) return HP_FRAME_BAD ;
  if (b->len < HP_FRAME_HEADER + l) return 0 ;
  *s = b->buf + HP_FRAME_HEADER ;
  *len = l ;
  return 1 ;
}

 /* Descriptors a client sends are never kept: each is closed on arrival. */
static int close_rights (struct msghdr const *msg)
{
  int got = 0 ;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg) ; c ; c = CMSG_NXTHDR((struct msghdr *)msg, c))
  {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue ;
    {
      size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) ;
      int fds[n ? n : 1] ;
      memcpy(fds, CMSG_DATA(c), n * sizeof(int)) ;
      for (size_t i = 0 ; i < n ; i++) fd_close(fds[i]) ;
      got = 1 ;
    }
  }
  return got ;
}

 /*
   Non-blocking. 1: a whole frame, its payload in *s and *len (valid
   until hp_frame_next); 0: not yet; HP_FRAME_BAD: a refused frame;
   -1: end of file (errno EPIPE) or error.
 */

int hp_frame_get (int fd, hp_inbuf *b, char const **s, size_t *len)
{
  int r = frame_head(b, s, len) ;
  if (r) return r ;
  {
     /* room for a few descriptors: the kernel closes what does not fit, and any is refused */
    union { struct cmsghdr h ; char buf[CMSG_SPACE(8 * sizeof(int))] ; } control ;
    struct iovec v = { .iov_base = b->buf + b->len, .iov_len = sizeof(b->buf) - b->len } ;
    struct msghdr msg = { .msg_name = 0, .msg_namelen = 0, .msg_iov = &v, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof(control.buf), .msg_flags = 0 } ;
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) ;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1 ;
    if (close_rights(&msg) || msg.msg_flags & MSG_CTRUNC) return HP_FRAME_BAD ;
    if (!n) return (errno = EPIPE, -1) ;
    b->len += n ;
  }
  return frame_head(b, s, len) ;
}
