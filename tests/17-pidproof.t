#!/bin/sh
# Without SO_PEERPIDFD (kernels before 6.5, such as Debian 12's), the
# holder's pidfd is kept only if the process behind the pid proves to be
# the connector: it holds the other end of the connection and is alive
# after the check. Anything else gets no pidfd, so no signal and no claim.
# The proof reads at most HP_PEER_FDS_MAX of the connector's fds: a
# connector with tens of thousands cannot make the daemon read them all.
. "$(dirname "$0")/lib.sh"
hp_setup

probe=$(hp_probe hp-probe-peer) || bail_out "cannot build hp-probe-peer"
out=$("$probe" 2> "$T/err")
is "$?" 0 "hp-probe-peer exits 0"
test -s "$T/err" && diag "$(cat "$T/err")"
is "$(printf '%s\n' "$out" | grep '^holds ')" "holds pidfd=yes" "a live process that has the other end: proven"
is "$(printf '%s\n' "$out" | grep '^closed ')" "closed pidfd=no" "one that had it and closed it: not proven"
is "$(printf '%s\n' "$out" | grep '^other ')" "other pidfd=no" "one that never had it: not proven"
is "$(printf '%s\n' "$out" | grep '^gone ')" "gone pidfd=no" "one that exited: not proven"
is "$(printf '%s\n' "$out" | grep '^early ')" "early pidfd=yes" "one with 5,000 fds that has it among its first: proven"
is "$(printf '%s\n' "$out" | grep '^late ')" "late pidfd=no" "one that has it after 5,000 other fds: not proven, the proof reads no further (a bounded cost)"
done_testing
