/* ISC license. */

/* hp-probe-notmpfile prog...
   Runs prog (and everything it spawns) as if no filesystem supported
   O_TMPFILE: open and openat with O_TMPFILE fail with EOPNOTSUPP, as they
   do on a filesystem without it (vfat, for instance), through a seccomp
   filter. The tests use it to drive holdingpen-helper down its fallback
   path (a named file, unlinked at once) on any filesystem.
   Exits 100 on usage, 111 if the filter cannot be installed. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include "hp-probe.h"

#define PROG "hp-probe-notmpfile"
#define USAGE "hp-probe-notmpfile prog..."

 /* The low 32 bits of syscall argument n: the open flags are an int. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
# define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n) + 4)
#else
# define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#endif

#define REFUSE_IF_TMPFILE(argn) \
  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(argn)), \
  BPF_STMT(BPF_ALU | BPF_AND | BPF_K, O_TMPFILE), \
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, O_TMPFILE, 0, 1), \
  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EOPNOTSUPP & SECCOMP_RET_DATA)), \
  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

int main (int argc, char *const *argv)
{
  struct sock_filter filter[] =
  {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef SYS_open
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, 0, 5),
    REFUSE_IF_TMPFILE(1),
#endif
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 5),
    REFUSE_IF_TMPFILE(2),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
  } ;
  struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter } ;
  if (argc < 2) hp_dieusage(PROG, USAGE) ;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) hp_die(111, PROG, "prctl PR_SET_NO_NEW_PRIVS") ;
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) hp_die(111, PROG, "install the seccomp filter") ;
  execvp(argv[1], argv + 1) ;
  hp_die(111, PROG, "exec") ;
  return 111 ;
}
