/* ISC license. */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <skalibs/types.h>
#include <skalibs/uint32.h>
#include <skalibs/strerr.h>
#include <skalibs/error.h>
#include <skalibs/djbunix.h>
#include <skalibs/socket.h>
#include <skalibs/genalloc.h>
#include <skalibs/gensetdyn.h>
#include <skalibs/tai.h>
#include <skalibs/iopause.h>
#include <skalibs/unixmessage.h>
#include <skalibs/unixconnection.h>

#include <s6/fdholder.h>

#include "holdingpend-internal.h"

static void keep_disconnect (void) ;
static void keep_pass_start (void) ;

 /*
   Keeping, while holdingpend runs (-f): what a new holdingpend needs to
   take back is kept in an s6-fdholderd, under identifiers that carry
   what it needs to know (keepid.c); restore.c takes them back at start.

   The conversation with the fd holder never waits: requests are queued
   on a non-blocking connection polled by the loop, and their answers,
   which come in order, are matched with what each was for. A grant is
   answered as soon as the deletion of its slot's ready record is in the
   socket, never after the fd holder's answer; its lease's records follow.
   The fd holder does what is in the socket in order, but s6-fdholderd
   2.11 drops what it has not read of a sender that died: safety does not
   rest on it, for a resource handed out is marked until it is emptied
   (hp_resource_mark.c) and never taken back for a ready one.

   The one rule: a held slot's resource is never kept without its
   lease's record, so that a new holdingpend never takes a resource that
   someone holds for a ready one. Hence:
     - a ready slot's record goes before the slot is granted, and the
       grant waits until that deletion is in the socket (keep_grantable);
     - the held resource is stored only once the fd holder has said yes
       to the lease's record;
     - at a lease's end, and before its record is stored anew (refresh),
       the held resource goes first.
   A crash anywhere leaves both records, or the lease's alone (then the
   slot is reserved anew at the lease's end), or neither.

   A stopped fd holder costs nothing until the socket is full (its
   buffer is made large): then nothing new is stored, slots that could
   not be kept are granted first, and what could not be kept is stored
   when the fd holder reads again. One that goes away takes everything
   with it: everything is stored again once it is back.
*/

#define RECONNECT_MS 200
#define PASS_BATCH 32      /* slots or leases stored anew in one turn of the loop */
#define PASS_MAXOPS 256    /* ... while fewer answers than that are awaited */
#define KEEP_SNDBUF (8 << 20)

enum keepop_e
{
  OP_DELETE,
  OP_READY,
  OP_HELD,
  OP_LEASE,
  OP_PIDFD,
  OP_LISTEN,
  OP_LIST
} ;

typedef struct keepop_s keepop, *keepop_ref ;
struct keepop_s
{
  uint64_t gen ;       /* the lease, or the slot's keepgen, when it was asked */
  uint32_t index ;     /* client or slot index */
  unsigned char what ;
} ;

static void flush (void) ;

static int say (int e)
{
  if (!g.keeper.warned && g.verbosity)
    strerr_warnwu3sys("keep in the fd holder at ", g.keeppath, ": what cannot be kept now will be when it answers") ;
  g.keeper.warned = 1 ;
  errno = e ;
  return 0 ;
}

static int keep_isup (void)
{
  return g.keeper.state == KEEPER_UP ;
}

 /*
   The socket takes no more: nothing new is stored, and slots kept ready
   are granted only once it drains. What is queued is tried first.
*/
static int keep_isbacklogged (void)
{
  if (g.keeper.state == KEEPER_DOWN) return 0 ;
  flush() ;
  return g.keeper.state != KEEPER_DOWN && !unixmessage_sender_isempty(&g.keeper.conn.out) ;
}

static int keeper_fd (void)
{
  return unixmessage_sender_fd(&g.keeper.conn.out) ;
}

static int op_push (unsigned char what, uint32_t index, uint64_t gen)
{
  keepop op = { .gen = gen, .index = index, .what = what } ;
  return genalloc_append(keepop, &g.keeper.ops, &op) ;
}

 /* One request: head, then id with its null; fd (-1: none) is duplicated, the copy the sender's. */
static int put (char const *head, size_t headlen, char const *id, int fd, unsigned char what, uint32_t index, uint64_t gen)
{
  struct iovec v[2] = { { .iov_base = (char *)head, .iov_len = headlen }, { .iov_base = (char *)id, .iov_len = id ? strlen(id) + 1 : 0 } } ;
  int copy = -1 ;
  unixmessagev m = { .v = v, .vlen = id ? 2 : 1, .fds = &copy, .nfds = 0 } ;
  if (g.keeper.state == KEEPER_DOWN) return (errno = ENOTCONN, 0) ;
  if (fd >= 0)
  {
    copy = fcntl(fd, F_DUPFD_CLOEXEC, 0) ;
    if (copy < 0) return 0 ;
    m.nfds = 1 ;
  }
  if (!op_push(what, index, gen)) goto err ;
  if (!unixmessage_putv_and_close(&g.keeper.conn.out, &m, unixmessage_bits_closeall))
  {
    genalloc_setlen(keepop, &g.keeper.ops, genalloc_len(keepop, &g.keeper.ops) - 1) ;
    goto err ;
  }
  return 1 ;
 err:
  if (copy >= 0) fd_close(copy) ;
  return 0 ;
}

static int store (char const *id, int fd, unsigned char what, uint32_t index, uint64_t gen)
{
  char head[2 + TAIN_PACK] = "S" ;
  tain limit ;
  tain_addsec_g(&limit, g.keepsecs) ;
  tain_pack(head + 1, &limit) ;
  head[1 + TAIN_PACK] = (unsigned char)strlen(id) ;
  return put(head, sizeof(head), id, fd, what, index, gen) ;
}

static void delete (char const *id)
{
  char head[2] = { 'D', (char)(unsigned char)strlen(id) } ;
  put(head, 2, id, -1, OP_DELETE, 0, 0) ;
}

static void flush (void)
{
  if (g.keeper.state == KEEPER_DOWN) return ;
  if (unixmessage_sender_flush(&g.keeper.conn.out)) return ;
  if (!error_isagain(errno)) { keep_disconnect() ; return ; }
  if (!g.keeper.stalled && g.verbosity) strerr_warnw3x("the fd holder at ", g.keeppath, " does not read: what cannot be kept now will be when it does") ;
  g.keeper.stalled = 1 ;
}


 /* A slot's record */

 /*
   Its record goes: LEAVING until the deletion is surely in the socket,
   which it is once nothing waits in our sender; until then the slot is
   granted to nobody, for a crash would leave the record behind.
*/
static void slot_unkeep (slot *s)
{
  char id[KEEPID_SIZE] ;
  unsigned int kept = s->kept ;
  s->kept = SLOTKEPT_NONE ;
  s->keepgen++ ;
  if (kept == SLOTKEPT_READY) keepid_ready(id, s) ;
  else if (kept == SLOTKEPT_HELD && s->holder) keepid_held(id, s, s->holder->lease) ;
  else return ;
  delete(id) ;
  s->kept = SLOTKEPT_LEAVING ;
}

 /* Only a record that is there, or may still be, is to be deleted. */
static int has_record (slot const *s)
{
  return s->kept == SLOTKEPT_READY || s->kept == SLOTKEPT_HELD ;
}

 /* A slot's resource in s->fd, stored anew: a new expiry, or a first record. */
static void slot_store (slot *s)
{
  char id[KEEPID_SIZE] ;
  if (!g.keeppath || s->fd < 0) return ;
  if (has_record(s)) slot_unkeep(s) ;
  if (!keep_isup() || keep_isbacklogged()) return ;
  keepid_ready(id, s) ;
  s->keepgen++ ;
  if (store(id, s->fd, OP_READY, s->index, s->keepgen)) s->kept = SLOTKEPT_READY ;
  flush() ;
}

 /*
   A slot's resource is ready in s->fd: kept, unless the fd holder cannot
   take it now. One taken back at start comes back from its helper with
   its record still standing.
*/
void keep_slot (slot *s)
{
  if (s->kept != SLOTKEPT_READY) slot_store(s) ;
}

 /* A slot's resource is dropped, or goes back to its helper: its record goes. */
void keep_slot_drop (slot *s)
{
  if (!has_record(s)) return ;
  slot_unkeep(s) ;
  flush() ;
}

 /*
   May s be granted now? Only if no record of it as a ready slot is, or
   may still be, in the fd holder: its deletion must be in the socket.
*/
int keep_grantable (slot *s)
{
  if (s->kept != SLOTKEPT_NONE && keep_isbacklogged()) return 0 ;
  if (has_record(s))
  {
    slot_unkeep(s) ;
    flush() ;
    if (keep_isbacklogged()) return 0 ;
  }
  s->kept = SLOTKEPT_NONE ;
  return 1 ;
}


 /* A lease's records */

static void lease_store (client *c)
{
  char id[KEEPID_SIZE] ;
  keepid_lease(id, c) ;
  c->kept = store(id, client_fd(c), OP_LEASE, c->index, c->lease) ;
}

 /* The kept pidfd record's name: its killwall is 0 until the careful kill starts, then fixed. */
static void pidfd_kept_id (char *id, client const *c)
{
  keepid_pidfd(id, c->lease, c->keptstep ? c->killwall : 0, c->keptstep) ;
}

static void pidfd_store (client *c, unsigned int step)
{
  char id[KEEPID_SIZE] ;
  if (c->pidfd < 0) return ;
  keepid_pidfd(id, c->lease, c->killwall, step) ;
  if (!store(id, c->pidfd, OP_PIDFD, c->index, c->lease)) return ;
  if (c->pidkept)
  {
     /* the new one first: a new holdingpend takes the furthest step it finds */
    pidfd_kept_id(id, c) ;
    delete(id) ;
  }
  c->pidkept = 1 ;
  c->keptstep = step ;
}

static void lease_unkeep (client *c)
{
  char id[KEEPID_SIZE] ;
  if (c->slot && has_record(c->slot)) slot_unkeep(c->slot) ;
  if (c->kept) { keepid_lease(id, c) ; delete(id) ; }
  if (c->pidkept) { pidfd_kept_id(id, c) ; delete(id) ; }
  c->kept = c->pidkept = 0 ;
}

 /* The lease's records, the held resource's once the fd holder has said yes to the lease's. */
static void lease_keep (client *c)
{
  if (!keep_isup() || keep_isbacklogged()) return ;
  lease_store(c) ;
  if (c->kept) pidfd_store(c, c->killstep) ;
}

 /* A grant, before its answer leaves: the lease's records go into the socket, not waited for. */
void keep_lease (client *c)
{
  if (!g.keeppath) return ;
  lease_keep(c) ;
  flush() ;
}

void keep_lease_drop (client *c)
{
  if (!c->kept && !c->pidkept && (!c->slot || !has_record(c->slot))) return ;
  lease_unkeep(c) ;
  flush() ;
}

 /* Before signal number step of the careful kill is sent: a new holdingpend goes on after it, not again. */
void keep_lease_kill (client *c, unsigned int step)
{
  if (!c->pidkept || !keep_isup()) return ;
  pidfd_store(c, step) ;
  flush() ;
}

static void held_store (client *c)
{
  char id[KEEPID_SIZE] ;
  slot *s = c->slot ;
  if (!s || s->fd < 0 || has_record(s) || keep_isbacklogged()) return ;
  keepid_held(id, s, c->lease) ;
  s->keepgen++ ;
  if (store(id, s->fd, OP_HELD, s->index, s->keepgen)) s->kept = SLOTKEPT_HELD ;
}


 /* The listening socket: connections made while holdingpend restarts wait in its backlog. */

static void listen_store (void)
{
  char id[KEEPID_SIZE] ;
  if (!keepid_listen(id)) return ;
  if (g.keeper.listenkept) delete(id) ;
  g.keeper.listenkept = store(id, 0, OP_LISTEN, 0, 0) ;
}

 /* At start, once what was kept is taken back: ours, unless it is already what is kept. */
void keep_listen (void)
{
  if (g.keeper.listenkept || !keep_isup()) return ;
  listen_store() ;
  flush() ;
}


 /* Answers */

static slot *slot_of_op (keepop const *op)
{
  slot *s = slot_of_index(op->index) ;
  return s && s->keepgen == op->gen ? s : 0 ;
}

static client *client_of_op (keepop const *op)
{
  client *c = op->index < g.maxconn ? CLIENT(op->index) : 0 ;
  return c && c->state == CLIENT_HOLDING && c->lease == op->gen ? c : 0 ;
}

static void sync_done (unixmessage const *m) ;

static int answer (keepop const *op, unixmessage const *m)
{
  int e ;
  if (op->what == OP_LIST)
  {
    sync_done(m) ;
    return 1 ;
  }
  if (m->len != 1 || m->nfds) return 0 ;
  e = (unsigned char)m->s[0] ;
  switch (op->what)
  {
    case OP_READY :
    case OP_HELD :
    {
      slot *s = slot_of_op(op) ;
       /* EBUSY: a record of that name is there, ours to delete later */
      if (e && e != EBUSY && s) { s->kept = SLOTKEPT_NONE ; say(e) ; }
      break ;
    }
    case OP_LEASE :
    {
      client *c = client_of_op(op) ;
      if (!c) break ;
      if (e)
      {
         /* a held record stored after an earlier yes must not outlive this no */
        c->kept = 0 ;
        if (c->slot && c->slot->kept == SLOTKEPT_HELD) slot_unkeep(c->slot) ;
        say(e) ;
        break ;
      }
      held_store(c) ;
      break ;
    }
    case OP_PIDFD :
    {
      client *c = client_of_op(op) ;
      if (e && c) say(e) ;
      break ;
    }
    case OP_LISTEN : if (e && e != EBUSY) { g.keeper.listenkept = 0 ; say(e) ; } break ;
    default : break ;
  }
  return 1 ;
}

static void read_answers (void)
{
  for (unsigned int n = 0 ; n < 64 && g.keeper.state != KEEPER_DOWN ; n++)
  {
    unixmessage m ;
    keepop op ;
    size_t len = genalloc_len(keepop, &g.keeper.ops) ;
    int r = unixmessage_receive(&g.keeper.conn.in, &m) ;
    if (!r) break ;
    if (r < 0 || g.keeper.ophead >= len) { keep_disconnect() ; return ; }
    op = genalloc_s(keepop, &g.keeper.ops)[g.keeper.ophead++] ;
    if (g.keeper.ophead == len)
    {
      genalloc_setlen(keepop, &g.keeper.ops, 0) ;
      g.keeper.ophead = 0 ;
    }
    if (!answer(&op, &m)) { unixmessage_drop(&m) ; keep_disconnect() ; return ; }
  }
  flush() ;
}

 /* The fd holder's socket spoke or drained. */
void keep_io (short revents)
{
  int was = g.keeper.state != KEEPER_DOWN && !unixmessage_sender_isempty(&g.keeper.conn.out) ;
  if (revents & IOPAUSE_WRITE) flush() ;
  if (revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) read_answers() ;
  if (was && !keep_isbacklogged())
  {
     /* slots kept ready are grantable again, and what could not be kept will be */
    if (g.keeper.stalled && g.verbosity) strerr_warni2x("the fd holder reads again at ", g.keeppath) ;
    g.keeper.stalled = 0 ;
    keep_pass_start() ;
    for (size_t i = 0 ; i < NPOOLS() ; i++) claim_dispatch(POOLS()[i]) ;
  }
}

short keep_events (void)
{
  if (g.keeper.state == KEEPER_DOWN) return 0 ;
  return IOPAUSE_READ | (unixmessage_sender_isempty(&g.keeper.conn.out) ? 0 : IOPAUSE_WRITE) ;
}

int keep_fd (void)
{
  return g.keeper.state == KEEPER_DOWN ? -1 : keeper_fd() ;
}


 /* The connection */

 /* Everything is as if nothing were kept: true if the fd holder is gone, and made true by the next sync if not. */
static void forget_all (void)
{
  for (uint32_t i = 0 ; i < g.slots.storage.len ; i++)
  {
    slot *s = slot_of_index(i) ;
    if (!s || s->kept == SLOTKEPT_NONE) continue ;
    s->kept = SLOTKEPT_NONE ;
    s->keepgen++ ;
  }
  for (uint32_t i = 0 ; i < g.maxconn ; i++) CLIENT(i)->kept = CLIENT(i)->pidkept = 0 ;
  g.keeper.listenkept = 0 ;
}

static void keep_disconnect (void)
{
  tain t ;
  if (g.keeper.state == KEEPER_DOWN) return ;
  say(errno) ;
  fd_close(keeper_fd()) ;
  unixconnection_free(&g.keeper.conn) ;
  genalloc_setlen(keepop, &g.keeper.ops, 0) ;
  g.keeper.ophead = 0 ;
  g.keeper.state = KEEPER_DOWN ;
  g.keeper.passing = 0 ;
  forget_all() ;
  deadline_in_ms(&t, RECONNECT_MS) ;
  timer_set(&g.keeptimer, &t) ;
}

 /* Only root or our own uid may be trusted to keep what a new holdingpend will act on. */
static int trusted (int fd)
{
  uid_t peer ;
  int r = hp_peer_trusted(fd, g.myuid, &peer) ;
  if (r) return r > 0 ;
  if (!g.keeper.untrusted)
  {
    char fmt[UID_FMT] ;
    fmt[uid_fmt(fmt, peer)] = 0 ;
    if (g.verbosity) strerr_warnw4x("refusing the fd holder at ", g.keeppath, ": it runs as uid ", fmt) ;
  }
  g.keeper.untrusted = 1 ;
  return (errno = EPERM, 0) ;
}

 /* A connected socket to the fd holder: the keeper's, in the state given. */
void keep_adopt (int fd, unsigned int state)
{
  int sz = KEEP_SNDBUF ;
   /* a stopped fd holder fills the socket: the larger it is, the longer nothing waits */
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) ;
  unixconnection_init(&g.keeper.conn, fd, fd) ;
  g.keeper.state = state ;
  g.keeper.untrusted = 0 ;
  if (g.keeper.warned && g.verbosity) strerr_warni2x("the fd holder answers again at ", g.keeppath) ;
  g.keeper.warned = 0 ;
}

int keep_connect (void)
{
  int fd = ipc_stream_nbcoe() ;
  if (fd < 0) return 0 ;
  if (!ipc_connect(fd, g.keeppath) && errno != EINPROGRESS) goto err ;
  if (!trusted(fd)) goto err ;
  return fd ;
 err:
  fd_close(fd) ;
  return -1 ;
}

 /* After a reconnection: whatever the fd holder has of ours is listed, deleted, and stored anew as it is now. */
static void sync_start (void)
{
  int fd = keep_connect() ;
  if (fd < 0)
  {
    tain t ;
    say(errno) ;
    deadline_in_ms(&t, RECONNECT_MS) ;
    timer_set(&g.keeptimer, &t) ;
    return ;
  }
  keep_adopt(fd, KEEPER_SYNC) ;
  if (!put("L", 1, 0, -1, OP_LIST, 0, 0)) { keep_disconnect() ; return ; }
  flush() ;
}

static void sync_done (unixmessage const *m)
{
  uint32_t n ;
  char const *s ;
  size_t len ;
  if (m->nfds || m->len < 5 || m->s[0]) { say(m->len ? (unsigned char)m->s[0] : EPROTO) ; keep_disconnect() ; return ; }
  uint32_unpack_big(m->s + 1, &n) ;
  s = m->s + 5 ;
  len = m->len - 5 ;
  g.keeper.state = KEEPER_UP ;
   /* the ids, each with its null */
  while (n-- && len)
  {
    size_t l = strnlen(s, len) ;
    if (l == len) break ;
    if (!strncmp(s, "holdingpen/", 11)) delete(s) ;
    s += l + 1 ; len -= l + 1 ;
  }
  keep_pass_start() ;
}


 /*
   A pass: every ready slot, every lease and the listening socket stored
   anew with a new expiry, or for the first time, a few each turn of the
   loop. A pass starts every third of -F, after a sync, and when a
   stopped fd holder reads again.
*/

static void keep_pass_start (void)
{
  tain t ;
  if (!keep_isup()) return ;
  g.keeper.passing = 1 ;
  g.keeper.cursor = 0 ;
  tain_copynow(&t) ;
  timer_set(&g.keeptimer, &t) ;
}

static void pass_slot (slot *s)
{
  if (s->state == SLOT_READY && s->fd >= 0) slot_store(s) ;
}

static void pass_client (client *c)
{
  if (c->state != CLIENT_HOLDING) return ;
  lease_unkeep(c) ;
  lease_keep(c) ;
}

static void pass_step (void)
{
  uint32_t nslots = g.slots.storage.len ;
  unsigned int done = 0 ;
  while (done < PASS_BATCH && !keep_isbacklogged()
   && genalloc_len(keepop, &g.keeper.ops) - g.keeper.ophead < PASS_MAXOPS)
  {
    uint32_t i = g.keeper.cursor ;
    if (i < nslots)
    {
      slot *s = slot_of_index(i) ;
      if (s) { pass_slot(s) ; done++ ; }
    }
    else if (i < nslots + g.maxconn)
    {
      client *c = CLIENT(i - nslots) ;
      if (c->state == CLIENT_HOLDING) { pass_client(c) ; done++ ; }
    }
    else
    {
      listen_store() ;
      flush() ;
      g.keeper.passing = 0 ;
      keep_pass_later() ;
      return ;
    }
    g.keeper.cursor++ ;
  }
  flush() ;
  {
    tain t ;
     /* the rest next turn; a backlogged socket restarts the pass when it drains */
    if (keep_isbacklogged()) return ;
    deadline_in_ms(&t, 1) ;
    timer_set(&g.keeptimer, &t) ;
  }
}

 /* The keeper's timer: reconnect, go on with a pass, or start one. */
void keep_timer (void)
{
  switch (g.keeper.state)
  {
    case KEEPER_DOWN : sync_start() ; return ;
    case KEEPER_SYNC : return ;
    default : break ;
  }
  if (!g.keeper.passing) { g.keeper.passing = 1 ; g.keeper.cursor = 0 ; }
  pass_step() ;
}

void keep_init (void)
{
  g.keeptimer.id = TIMER_KEEP ;
}

 /* Not connected at start: connect again soon, then sync. */
void keep_disconnected (void)
{
  tain t ;
  g.keeper.state = KEEPER_DOWN ;
  g.keeper.warned = 1 ;
  deadline_in_ms(&t, RECONNECT_MS) ;
  timer_set(&g.keeptimer, &t) ;
}

 /* Everything was just taken back: the first pass comes after a third of -F, as any other. */
void keep_pass_later (void)
{
  tain t ;
  tain_addsec_g(&t, g.keepsecs / 3 ? g.keepsecs / 3 : 1) ;
  timer_set(&g.keeptimer, &t) ;
}

 /* A clean exit: what is queued goes into the socket, for a little while at most, so that nothing kept is stale. */
void keep_exit (void)
{
  tain deadline ;
  if (g.keeper.state == KEEPER_DOWN) return ;
  deadline_in_ms(&deadline, 1000) ;
  if (!unixmessage_sender_timed_flush_g(&g.keeper.conn.out, &deadline) && g.verbosity)
    strerr_warnwu2sys("hand what is queued to the fd holder at ", g.keeppath) ;
}
