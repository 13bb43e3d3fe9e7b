/* ISC license. */

/* hp-probe-nopunch prog...
   Runs prog (and everything it spawns) as if no filesystem could punch
   holes: fallocate with FALLOC_FL_PUNCH_HOLE fails with EOPNOTSUPP, as it
   does on vfat or ext2, through a seccomp filter; any other fallocate goes
   through, so a file can still be reserved. The tests use it to drive
   holdingpen-helper's scrub down its fallback path on any filesystem.
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
#include <linux/falloc.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include "hp-probe.h"

#define PROG "hp-probe-nopunch"
#define USAGE "hp-probe-nopunch prog..."

 /* The low 32 bits of syscall argument n: the fallocate mode is an int. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
# define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n) + 4)
#else
# define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#endif

int main (int argc, char *const *argv)
{
  struct sock_filter filter[] =
  {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fallocate, 0, 4),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)),
    BPF_STMT(BPF_ALU | BPF_AND | BPF_K, FALLOC_FL_PUNCH_HOLE),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FALLOC_FL_PUNCH_HOLE, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EOPNOTSUPP & SECCOMP_RET_DATA)),
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
