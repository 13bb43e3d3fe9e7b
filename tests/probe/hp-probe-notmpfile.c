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
#include <fcntl.h>
#include <sys/syscall.h>
#include "hp-seccomp.h"

#define PROG "hp-probe-notmpfile"
#define USAGE "hp-probe-notmpfile prog..."

int main (int argc, char *const *argv)
{
  struct sock_filter filter[] =
  {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef SYS_open
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, 0, 5),
    HP_REFUSE_IF_FLAG(1, O_TMPFILE),
#endif
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 5),
    HP_REFUSE_IF_FLAG(2, O_TMPFILE),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
  } ;
  if (argc < 2) hp_dieusage(PROG, USAGE) ;
  hp_seccomp_exec(PROG, filter, sizeof(filter) / sizeof(filter[0]), argv + 1) ;
  return 111 ;
}
