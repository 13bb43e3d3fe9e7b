/* ISC license. */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/epoll.h>

#include <skalibs/alloc.h>
#include <skalibs/disize.h>
#include <skalibs/uint16.h>
#include <skalibs/uint32.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/error.h>
#include <skalibs/strerr.h>
#include <skalibs/djbunix.h>
#include <skalibs/genset.h>
#include <skalibs/socket.h>
#include <skalibs/iopause.h>
#include <skalibs/unixmessage.h>

#include "holdingpend-internal.h"

#define ACCEPT_MAX 8

 /*
   A client is a connection. While it speaks (a request, a wait, an
   answer on its way) its fd is in the iopause set and it has an input
   buffer of bounded size; once it holds a lease and has nothing queued,
   it goes quiet: its fd moves to an epoll set that is one fd in the
   iopause set, and it keeps only what a lease needs. So a thousand held
   leases cost neither poll time nor buffers. Its buffers go at once,
   its fd moves a turn of the loop after the grant: the epoll_ctl then
   delays no answer (the client is often woken on the daemon's cpu,
   and waits for it to sleep), and a lease that ends at once never
   costs it, nor its undoing.

   A request whose needs cannot be allocated (the client's input buffer,
   its rights, its count, what the request itself needs) is refused with
   answer 111 and one log line (client_nomem), and the daemon goes on;
   even that answer needs no memory (answer_now).
*/

static ilink *client_alink (uint32_t i)
{
  return &CLIENT(i)->alink ;
}

static ilink *client_plink (uint32_t i)
{
  return &CLIENT(i)->plink ;
}

 /* The list of its pool a client in this state is in: the waiters, the holders, or none. */
static ilist *pool_list (pool *p, unsigned int state)
{
  switch (state)
  {
    case CLIENT_WAITING : return &p->waiters ;
    case CLIENT_GRANTING :
    case CLIENT_HOLDING : return &p->holders ;
    default : return 0 ;
  }
}

 /*
   Every change of a client's state goes here, so that its place in its
   pool's lists and its pool's count of its uid follow: a claim joins its
   pool (pool_join, which may fail) before it waits or is granted, and
   leaves it whenever its state has no list of the pool.
*/
void client_setstate (client *c, unsigned int state)
{
  pool *p = c->pool ;
  if (p)
  {
    ilist *from = pool_list(p, c->state) ;
    ilist *to = pool_list(p, state) ;
    if (from != to)
    {
      if (from) ilist_remove(from, c->index, &client_plink) ;
      if (to) ilist_append(to, c->index, &client_plink) ;
    }
    if (!to) pool_leave(c) ;
  }
  c->state = state ;
}

static void activate (client *c)
{
  if (c->watched)
  {
    epoll_ctl(g.epfd, EPOLL_CTL_DEL, client_fd(c), 0) ;
    c->watched = 0 ;
  }
  if (!c->active)
  {
    ilist_append(&g.active, c->index, &client_alink) ;
    c->active = 1 ;
  }
}

static void unbuffer (client *c)
{
  if (c->in) { alloc_free(c->in) ; c->in = 0 ; }
  if (c->claimre) { alloc_free(c->claimre) ; c->claimre = 0 ; }
  unixmessage_sender_free(&c->out) ;
}

static void quiet (client *c)
{
  struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data = { .u32 = c->index } } ;
  if (c->active)
  {
    ilist_remove(&g.active, c->index, &client_alink) ;
    c->active = 0 ;
  }
  unbuffer(c) ;
  if (!c->watched)
  {
    if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, client_fd(c), &ev) < 0)
    {
       /* cannot watch it quietly: keep polling it the plain way */
      if (g.verbosity) strerr_warnwu1sys("add a lease to the epoll set") ;
      activate(c) ;
      return ;
    }
    c->watched = 1 ;
  }
}

 /* Where its fd is polled follows from its state: every change of state or output ends here. */
void client_poll (client *c)
{
  if (c->state == CLIENT_FREE) return ;
  if (c->state == CLIENT_HOLDING && unixmessage_sender_isempty(&c->out))
  {
    if (!c->quietin) { quiet(c) ; return ; }
    unbuffer(c) ;
  }
  activate(c) ;
}

 /* What its fd is polled for in the coming iopause; 0: nothing, or it has just gone quiet. */
short client_events (client *c)
{
  short events = 0 ;
  int pending ;
  if (c->quietin && !--c->quietin)
  {
    client_poll(c) ;
    if (!c->active) return 0 ;
  }
  pending = !unixmessage_sender_isempty(&c->out) ;
  if (pending) events |= IOPAUSE_WRITE ;
   /* backpressure: a client that does not read its answers is not read either */
  if (!pending && (c->state == CLIENT_REQUEST || c->state == CLIENT_WAITING)) events |= IOPAUSE_READ ;
  if (c->state == CLIENT_HOLDING) events |= IOPAUSE_READ ;
  return events ;
}

static void conn_uncount (uid_t uid)
{
  uidcount *u = uidcount_find(&g.connperuid, uid) ;
  if (!u) return ;
   /* back under the limit: the next refusal is worth a line again */
  if (u->n <= g.maxperuid) u->warned = 0 ;
  uidcount_dec(&g.connperuid, u) ;
}

void client_close (client *c)
{
  client_setstate(c, CLIENT_FREE) ;
  lease_unnumber(c) ;
  if (c->active) ilist_remove(&g.active, c->index, &client_alink) ;
  if (c->watched) epoll_ctl(g.epfd, EPOLL_CTL_DEL, client_fd(c), 0) ;
  if (c->pidwatched) epoll_ctl(g.epfd, EPOLL_CTL_DEL, c->pidfd, 0) ;
  if (c->counted) conn_uncount(c->uid) ;
  timer_cancel(&c->deadline) ;
  if (c->pidfd >= 0) fd_close(c->pidfd) ;
  fd_close(client_fd(c)) ;
  unbuffer(c) ;
  genset_delete(&g.clientset, c->index) ;
  memset(c, 0, sizeof(client)) ;
  c->state = CLIENT_FREE ;
  g.acceptblocked = 0 ;
   /* its buffers are back in the heap: holdingpend.c hands the holes back once all is quiet */
  g.trimwanted = 1 ;
  tain_addsec_g(&g.trimat, 1) ;
  if (NCLIENTS() + g.reserve < g.maxconn) g.fullwarned = 0 ;
}

 /*
   Room in c's sender for one answer of len bytes with nfds fds: queueing
   it then cannot fail, whatever memory there is by then.
*/
int client_answer_room (client *c, size_t len, unsigned int nfds)
{
  unixmessage_sender *b = &c->out ;
  return genalloc_readyplus(disize, &b->offsets, 1)
   && genalloc_readyplus(int, &b->fds, nfds)
   && stralloc_readyplus(&b->data, len) ;
}

 /*
   0 if the answer could not be queued. A passed fd goes with it and is
   not closed: it must stay open while the answer may be queued, that is
   as long as the client (slot_hand_out).
*/
int client_answer (client *c, char const *s, size_t len, int *fd)
{
  unixmessage m = { .s = (char *)s, .len = len, .fds = fd, .nfds = !!fd } ;
  if (!unixmessage_put_and_close(&c->out, &m, unixmessage_bits_closenone)) return 0 ;
  unixmessage_sender_flush(&c->out) ;
  return 1 ;
}

 /*
   An answer that leaves the conversation open. If it cannot be queued,
   for want of memory, the request (what) is refused 111 instead. 1: it
   is on its way.
*/
int client_reply (client *c, char const *s, size_t len, char const *what)
{
  if (!client_answer(c, s, len, 0))
  {
    client_nomem(c, what, 0) ;
    return 0 ;
  }
  client_poll(c) ;
  return 1 ;
}

/*
   An answer with no fd, framed as unixmessage frames it and written
   straight into the socket, with nothing allocated: for a refusal when
   even its queueing failed. 1 if it all went.
*/
static int answer_now (int fd, char const *s, size_t len)
{
  char head[HP_FRAME_HEADER] ;
  struct iovec v[2] = { { .iov_base = head, .iov_len = HP_FRAME_HEADER }, { .iov_base = (char *)s, .iov_len = len } } ;
  struct msghdr msg = { .msg_name = 0, .msg_namelen = 0, .msg_iov = v, .msg_iovlen = 2, .msg_control = 0, .msg_controllen = 0, .msg_flags = 0 } ;
  ssize_t r ;
  uint32_pack_big(head, (uint32_t)len) ;
  uint16_pack_big(head + 4, 0) ;
  do r = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) ;
  while (r < 0 && errno == EINTR) ;
  return r == (ssize_t)(HP_FRAME_HEADER + len) ;
}

 /* A refusal ends the conversation: answer, then drop once flushed. */
void client_refuse (client *c, unsigned char code, char const *extra, size_t extralen)
{
  char buf[1 + extralen] ;
  client_setstate(c, CLIENT_CLOSING) ;
  c->slot = 0 ;
  buf[0] = (char)code ;
  if (extralen) memcpy(buf + 1, extra, extralen) ;
  if (!client_answer(c, buf, 1 + extralen, 0))
  {
     /* no memory even for the answer: into the socket at once, if nothing is queued before it */
    if (unixmessage_sender_isempty(&c->out)) answer_now(client_fd(c), buf, 1 + extralen) ;
    client_close(c) ;
    return ;
  }
   /* mostly the answer fits in the socket buffer at once: then close now */
  if (unixmessage_sender_isempty(&c->out))
  {
    client_close(c) ;
    return ;
  }
  {
    tain t ;
    tain_addsec_g(&t, 2) ;
    timer_set(&c->deadline, &t) ;
  }
  client_poll(c) ;
}

 /* A request refused for want of memory: logged, answered 111, the conversation over. */
void client_nomem (client *c, char const *what, char const *poolname)
{
  log_nomem(what, c, poolname) ;
  client_refuse(c, HOLDINGPEN_SERVERFAIL, 0, 0) ;
}

 /* A client gone in the middle of a ballast grant: the helper's answer will find no holder. */
static void client_gone (client *c)
{
  switch (c->state)
  {
    case CLIENT_HOLDING : lease_end(c, LEASE_RELEASE) ; return ;
    case CLIENT_GRANTING : c->slot->holder = 0 ; break ;
    case CLIENT_WAITING : log_client("leave", c, c->pool->conf.name, 0) ; break ;
    default : break ;
  }
  client_close(c) ;
}

static void bad_request (client *c)
{
  log_client("client-error", c, 0, "badrequest") ;
  if (c->state == CLIENT_REQUEST) client_refuse(c, HOLDINGPEN_BADREQUEST, 0, 0) ;
  else client_gone(c) ;
}

typedef void request_func (client *, hp_request const *) ;
typedef struct handler_s handler, *handler_ref ;
struct handler_s
{
  char op ;
  request_func *f ;
} ;

static handler const handlers[] =
{
  { .op = HOLDINGPEN_OP_CLAIM, .f = &claim_request },
  { .op = HOLDINGPEN_OP_STATUS, .f = &status_request },
  { .op = HOLDINGPEN_OP_REVOKE, .f = &lease_revoke },
  { .op = HOLDINGPEN_OP_RELOAD, .f = &reload_request },
  { .op = 0, .f = 0 }
} ;

static char const *request_name (hp_request const *req)
{
  switch (req->op)
  {
    case HOLDINGPEN_OP_CLAIM : return "claim" ;
    case HOLDINGPEN_OP_STATUS : return "status" ;
    case HOLDINGPEN_OP_REVOKE : return "revoke" ;
    case HOLDINGPEN_OP_RELOAD : return "reload" ;
    default : return "request" ;
  }
}

 /* A parsed request refused for want of memory: its name, and the pool of a claim, in the log line. */
static void request_nomem (client *c, hp_request const *req)
{
  client_nomem(c, request_name(req), req->op == HOLDINGPEN_OP_CLAIM ? req->pool : 0) ;
}

static void dispatch (client *c, char const *s, size_t len)
{
  hp_request req ;
  if (c->state != CLIENT_REQUEST || !hp_request_parse(&req, s, len))
  {
    bad_request(c) ;
    return ;
  }
   /* its rights or its count could not be had: whatever it asks is refused, not denied */
  if (c->nomem)
  {
    request_nomem(c, &req) ;
    return ;
  }
  for (handler const *h = handlers ; h->f ; h++)
    if (h->op == req.op) { (*h->f)(c, &req) ; return ; }
  bad_request(c) ;
}

/*
   No memory for a client's input buffer: its request is read into the
   stack, in one go, and refused 111, named in the log if it came whole.
   A part of one is refused all the same: the rest would have nowhere to
   go. Nothing there yet: it is read when it comes.
*/
static void starved_read (client *c)
{
  hp_inbuf b ;
  char const *s ;
  size_t len ;
  int r ;
  b.len = 0 ;
  r = hp_frame_get(client_fd(c), &b, &s, &len) ;
  if (r == -1) { client_gone(c) ; return ; }
  if (r == HP_FRAME_BAD) { bad_request(c) ; return ; }
  if (r == 1)
  {
    hp_request req ;
    if (!hp_request_parse(&req, s, len)) { bad_request(c) ; return ; }
    request_nomem(c, &req) ;
    return ;
  }
  if (b.len) client_nomem(c, "request", 0) ;
   /* nothing yet (client_new reads at once): it is polled for its request */
  else client_poll(c) ;
}

 /*
   A lease holder has nothing to say: any byte from it, like its end of
   file, ends the lease. Others are read one whole request at a time,
   and not at all while an answer waits to be read.
*/
void client_read (client *c)
{
  if (c->state == CLIENT_HOLDING)
  {
    lease_end(c, LEASE_RELEASE) ;
    return ;
  }
  if (!c->in)
  {
    c->in = alloc(sizeof(hp_inbuf)) ;
    if (!c->in)
    {
      starved_read(c) ;
      return ;
    }
    c->in->len = 0 ;
  }
  for (unsigned int n = 0 ; n < UNIXMESSAGE_MAXREADS ; n++)
  {
    char const *s ;
    size_t len ;
    int r ;
    if ((c->state != CLIENT_REQUEST && c->state != CLIENT_WAITING) || !unixmessage_sender_isempty(&c->out)) break ;
    r = hp_frame_get(client_fd(c), c->in, &s, &len) ;
    if (!r) break ;
    if (r == -1) { client_gone(c) ; return ; }
    if (r == HP_FRAME_BAD) { bad_request(c) ; return ; }
    dispatch(c, s, len) ;
    if (c->state == CLIENT_FREE) return ;
    if (c->in) hp_frame_next(c->in) ;
  }
  client_poll(c) ;
}

void client_write (client *c)
{
  if (!unixmessage_sender_flush(&c->out) && !error_isagain(errno))
  {
    client_gone(c) ;
    return ;
  }
  if (c->state == CLIENT_CLOSING && unixmessage_sender_isempty(&c->out))
  {
    client_close(c) ;
    return ;
  }
  client_poll(c) ;
}

void client_timeout (client *c)
{
  switch (c->state)
  {
    case CLIENT_REQUEST :
      log_client("client-error", c, 0, "timeout") ;
      client_close(c) ;
      break ;
    case CLIENT_WAITING : claim_timeout(c) ; break ;
    case CLIENT_CLOSING : client_close(c) ; break ;
    case CLIENT_HOLDING : lease_timer(c) ; break ;
    default : break ;
  }
}

 /*
   No uid may take every connection: each has at most g.maxperuid (root
   and the daemon's own uid are not counted against), and the last
   g.reserve connections are kept for clients with the admin right, so
   that the administrator can always look and act. A refusal is logged
   once until its cause clears, not per attempt.
*/
static int admit (client *c)
{
  uidcount *u ;
  if (!c->canadmin && NCLIENTS() > g.maxconn - g.reserve)
  {
    if (!g.fullwarned) log_client("client-error", c, 0, "full") ;
    g.fullwarned = 1 ;
    client_close(c) ;
    return 0 ;
  }
  if (!c->uid || c->uid == g.myuid || !g.maxperuid) return 1 ;
  u = uidcount_find(&g.connperuid, c->uid) ;
  if (u && u->n >= g.maxperuid)
  {
    if (!u->warned) log_client("client-error", c, 0, "toomany") ;
    u->warned = 1 ;
    client_close(c) ;
    return 0 ;
  }
   /* not counted for want of memory: it may stay, to be told so when it asks (client_read) */
  if (!uidcount_inc(&g.connperuid, u, c->uid))
  {
    c->nomem = 1 ;
    return 1 ;
  }
  c->counted = 1 ;
  return 1 ;
}

 /* A free entry for the connection on fd, its links and timer set; 0 if the table is full. */
static client *client_take (int fd)
{
  uint32_t i = genset_new(&g.clientset) ;
  client *c ;
  if (i >= g.maxconn) return 0 ;
  c = CLIENT(i) ;
  memset(c, 0, sizeof(client)) ;
  unixmessage_sender_init(&c->out, fd) ;
  c->fd = fd ;
  c->index = i ;
  c->deadline.id = i ;
  c->alink = c->plink = (ilink)ILINK_ZERO ;
  c->pidfd = -1 ;
  c->state = CLIENT_REQUEST ;
  return c ;
}

void client_new (int fd)
{
  struct ucred cred ;
  socklen_t credlen = sizeof(cred) ;
  client *c ;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) < 0)
  {
    if (g.verbosity) strerr_warnwu1sys("get the credentials of a client") ;
    fd_close(fd) ;
    return ;
  }
  c = client_take(fd) ;
  if (!c)
  {
    fd_close(fd) ;
    return ;
  }
  c->uid = cred.uid ;
  c->gid = cred.gid ;
  c->pid = cred.pid ;
  tain_copynow(&c->since) ;
  {
    tain t ;
    tain_add_g(&t, &g.answertto) ;
    timer_set(&c->deadline, &t) ;
  }
   /* without its rights it may stay, to be told so when it asks (client_read) */
  if (!rules_apply(c)) c->nomem = 1 ;
  if (!admit(c)) return ;
   /* a request mostly comes right behind its connect: read now, not a poll later */
  client_read(c) ;
}

 /* A lease's connection kept across a restart: a client with nothing to say, not yet holding; 0 if the table is full. */
client *client_restore (int fd, uid_t uid)
{
  client *c ;
  if (fd < 0 || ndelay_on(fd) < 0 || coe(fd) < 0) return 0 ;
  c = client_take(fd) ;
  if (!c) return 0 ;
   /* it counts toward its uid's connections like any other, over the limit or not */
  if (uid && uid != g.myuid && g.maxperuid && uidcount_inc(&g.connperuid, uidcount_find(&g.connperuid, uid), uid))
  {
    c->uid = uid ;
    c->counted = 1 ;
  }
  return c ;
}

 /*
   A few connections a turn, then the loop serves the others: a flood of
   connections that are refused at once (over a uid's count, past the
   admin reserve) never raises NCLIENTS(), and would otherwise keep this
   loop going for as long as it lasts.
*/
void client_accept (void)
{
  for (unsigned int n = 0 ; n < ACCEPT_MAX && NCLIENTS() < g.maxconn ; n++)
  {
    int fd = ipc_accept_nbcoe(0, 0, 0, 0) ;
    if (fd < 0)
    {
      if (errno == EMFILE || errno == ENFILE)
      {
         /* out of fds: stop listening until a connection goes, and say it once */
        if (!g.acceptblocked && g.verbosity) strerr_warnwu1sys("accept a connection, until one goes away") ;
        g.acceptblocked = 1 ;
      }
      else if (!error_isagain(errno) && errno != ECONNABORTED && g.verbosity) strerr_warnwu1sys("accept") ;
      return ;
    }
    client_new(fd) ;
  }
}

void client_init (void)
{
  genset_init(&g.clientset, g.clients, g.clientfree, sizeof(client), g.maxconn) ;
  g.active = (ilist)ILIST_ZERO ;
}
