#!/bin/sh
# Without -p and without /etc/holdingpen/pools, the embedded default pool
# serves: "default", memfd, 64M, 2 slots, all reserved by readiness.
. "$(dirname "$0")/lib.sh"

if test -e /etc/holdingpen/pools ; then
  skip_all "/etc/holdingpen/pools exists on this machine: the embedded default is not used"
fi

MB=1048576
shmem0=$(hp_shmem)
hp_start_supervised
ok "s6-svwait -U returns" hp_wait_up
shmem1=$(hp_shmem)
slack=$(hp_shmem_slack)
cmp_ok $((shmem1 - shmem0)) -ge $((2 * 64 * MB - slack)) "Shmem grew by at least 2 x 64M by readiness (less $((slack / 1024)) kB of per-CPU counter drift)"
is "$(hp_field default kind)" memfd "pool default: kind memfd"
is "$(hp_field default size)" $((64 * MB)) "pool default: 64M"
is "$(hp_field default count)" 2 "pool default: 2 slots"
is "$(hp_field default ready)" 2 "pool default: 2 ready"

probe=$(hp_probe hp-probe-memfd)
out=$(hp_claim default "$probe")
is "$?" 0 "a claim on the default pool succeeds"
like "$out" "^size=$((64 * MB))\$" "the fd of the default pool has 64M"

done_testing
