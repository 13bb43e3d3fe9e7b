#!/bin/sh
# Without -p and without /etc/holdingpen/pools, the embedded default pool
# serves: "default", memfd, 64M, 2 slots, all reserved by readiness.
. "$(dirname "$0")/lib.sh"

if test -e /etc/holdingpen/pools ; then
  skip_all "/etc/holdingpen/pools exists on this machine: the embedded default is not used"
fi

MB=1048576
want=$((2 * 64 * MB))
slack=$(hp_shmem_slack)
shmem0=$(hp_shmem)
hp_start_supervised
ok "s6-svwait -U returns" hp_wait_up
shmem1=$(hp_shmem)
# Shmem is the whole machine's: if another process freed shared memory
# meanwhile, measure again from a fresh start (twice at most).
round=1
while test $((shmem1 - shmem0)) -lt $((want - slack)) && test $round -lt 3 ; do
  round=$((round + 1))
  note "Shmem grew by $(((shmem1 - shmem0) / 1024)) kB only; round $round"
  hp_svc_down
  shmem0=$(hp_shmem)
  hp_svc_up
  shmem1=$(hp_shmem)
done
cmp_ok $((shmem1 - shmem0)) -ge $((want - slack)) "Shmem grew by at least 2 x 64M by readiness (less $((slack / 1024)) kB of per-CPU counter drift)"
is "$(hp_field default kind)" memfd "pool default: kind memfd"
is "$(hp_field default size)" $((64 * MB)) "pool default: 64M"
is "$(hp_field default count)" 2 "pool default: 2 slots"
is "$(hp_field default ready)" 2 "pool default: 2 ready"

probe=$(hp_probe hp-probe-memfd)
out=$(hp_claim default "$probe")
is "$?" 0 "a claim on the default pool succeeds"
like "$out" "^size=$((64 * MB))\$" "the fd of the default pool has 64M"

done_testing
