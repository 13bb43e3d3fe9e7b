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
#include <fcntl.h>
#include <sys/syscall.h>
#include <linux/falloc.h>
#include "hp-seccomp.h"

#define PROG "hp-probe-nopunch"
#define USAGE "hp-probe-nopunch prog..."

int main (int argc, char *const *argv)
{
  struct sock_filter filter[] =
  {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fallocate, 0, 5),
    HP_REFUSE_IF_FLAG(1, FALLOC_FL_PUNCH_HOLE),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
  } ;
  if (argc < 2) hp_dieusage(PROG, USAGE) ;
  hp_seccomp_exec(PROG, filter, sizeof(filter) / sizeof(filter[0]), argv + 1) ;
  return 111 ;
}
