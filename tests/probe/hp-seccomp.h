/* ISC license. */

/* Shared by the probes that make one syscall fail as some filesystem
   would: a seccomp filter that refuses a syscall when a flag is set in
   one of its arguments, installed before exec'ing the program under test. */

#ifndef HP_SECCOMP_H
#define HP_SECCOMP_H

#include <stddef.h>
#include <errno.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "hp-probe.h"

 /* The low 32 bits of syscall argument n: the flags we look at are ints. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
# define HP_ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n) + 4)
#else
# define HP_ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#endif

 /* After a match on the syscall number: EOPNOTSUPP if flag is set in argument argn, else allow. 5 instructions. */
#define HP_REFUSE_IF_FLAG(argn, flag) \
  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, HP_ARG_LO(argn)), \
  BPF_STMT(BPF_ALU | BPF_AND | BPF_K, (flag)), \
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (flag), 0, 1), \
  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EOPNOTSUPP & SECCOMP_RET_DATA)), \
  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static inline void hp_seccomp_exec (char const *prog, struct sock_filter *filter, unsigned short len, char *const *argv)
{
  struct sock_fprog fprog = { .len = len, .filter = filter } ;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) hp_die(111, prog, "prctl PR_SET_NO_NEW_PRIVS") ;
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) < 0) hp_die(111, prog, "install the seccomp filter") ;
  execvp(argv[0], argv) ;
  hp_die(111, prog, "exec") ;
}

#endif
