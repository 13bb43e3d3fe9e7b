#!/bin/sh
#
# tools/demo.sh [ configure options ]
#
# Builds holdingpen, then shows it working under s6, in a temporary
# directory, without installing anything and without configuration:
#   - a scan directory with one service, the broker on its embedded default
#     pool ("default": memfd, 64M, 2 slots), readiness through
#     notification-fd 3;
#   - s6-svscan on it, and s6-svwait -U until the broker says every slot is
#     reserved;
#   - holdingpen-claim takes a slot of "default" and runs a shell that
#     prints what it got and the broker's status, while it holds the lease;
#   - s6-svscanctl -t stops everything, and the directory is removed.
# The broker's log is printed at the end. Nothing is left running.

PROG=demo.sh
cd "$(dirname "$0")/.." || exit 111
. tools/need-packages.sh
. tools/procs.sh

hp_need_packages "$PROG"
MAKE=${MAKE:-make}

./configure "$@" > /dev/null || { echo "$PROG: fatal: configure failed" 1>&2 ; exit 1 ; }
$MAKE || { echo "$PROG: fatal: make failed" 1>&2 ; exit 1 ; }

build=$(pwd -P)
for p in holdingpen-daemon holdingpend holdingpen-helper holdingpen-claim holdingpen-status ; do
  test -x "$build/$p" || { echo "$PROG: fatal: $build/$p was not built" 1>&2 ; exit 1 ; }
done
for p in s6-svscan s6-svscanctl s6-svok s6-svwait s6-ipcserver-socketbinder execlineb ; do
  command -v "$p" > /dev/null 2>&1 || { echo "$PROG: fatal: $p not found in PATH (Debian packages s6 and execline)" 1>&2 ; exit 1 ; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/holdingpen-demo.XXXXXX") || { echo "$PROG: fatal: mktemp failed" 1>&2 ; exit 111 ; }
scandir=$tmp/scan
svc=$scandir/holdingpen
socket=$tmp/holdingpen.socket
log=$tmp/holdingpen.log
svscanpid=

hp_tag_init

show_log=false

# Stops the supervision tree (if it runs), makes sure nothing of it is left,
# prints the broker's log if asked to, removes the directory. Runs on every
# exit path; makes the script fail if it had to kill a leftover process.
cleanup () {
  rc=$?
  trap - EXIT HUP INT QUIT TERM
  if test -n "$svscanpid" && kill -0 "$svscanpid" 2>/dev/null ; then
    s6-svscanctl -t "$scandir" 2>/dev/null || kill -TERM "$svscanpid" 2>/dev/null
    i=0
    while kill -0 "$svscanpid" 2>/dev/null && test "$i" -lt 100 ; do
      sleep 0.1 2>/dev/null || sleep 1
      i=$((i + 1))
    done
    kill -0 "$svscanpid" 2>/dev/null && kill -KILL "$svscanpid" 2>/dev/null
    wait "$svscanpid" 2>/dev/null
  fi
  if ! hp_reap "$PROG" 5 ; then
    echo "$PROG: fatal: the processes above did not exit with s6-svscan" 1>&2
    rc=1
  fi
  if $show_log ; then
    echo "$PROG: the broker's log:"
    cat "$log"
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap 'cleanup' EXIT
trap 'exit 111' HUP INT QUIT TERM

mkdir -p "$svc" || exit 111
echo 3 > "$svc/notification-fd"

# The run script: log lines (stderr) to a file, the readiness pipe (fd 3)
# onto stdout, where holdingpen-daemon -1 writes its readiness line.
# holdingpen-daemon finds s6-ipcserver-socketbinder and holdingpend through
# PATH, which starts with the build directory.
cat > "$svc/run" <<EOF
#!$(command -v execlineb) -P
redirfd -a 2 $log
fdmove 1 3
holdingpen-daemon -1 -H $build/holdingpen-helper $socket
EOF
chmod 0755 "$svc/run"

PATH=$build:$PATH
export PATH

echo "$PROG: starting s6-svscan on $scandir"
HP_PROC_TAG=$HP_PROC_TAG s6-svscan "$scandir" < /dev/null > "$tmp/s6-svscan.log" 2>&1 &
svscanpid=$!

# s6-svwait needs s6-supervise to listen and to have written its status
# (s6-svok answers a moment before the status is written): wait for both.
i=0
until s6-svok "$svc" 2>/dev/null && test -f "$svc/supervise/status" ; do
  i=$((i + 1))
  test "$i" -le 100 || { echo "$PROG: fatal: s6-supervise did not start" 1>&2 ; cat "$tmp/s6-svscan.log" 1>&2 ; exit 1 ; }
  sleep 0.1 2>/dev/null || sleep 1
done

echo "$PROG: waiting for the broker to be ready (every slot reserved)"
if ! s6-svwait -U -t 30000 "$svc" ; then
  echo "$PROG: fatal: the broker did not become ready in 30 seconds; its log:" 1>&2
  cat "$log" 1>&2
  exit 1
fi
echo "$PROG: ready"

echo "$PROG: holdingpen-claim -s $socket default sh -c '...'"
holdingpen-claim -s "$socket" default \
  sh -c 'echo "claimed: fd=$HOLDINGPEN_FD size=$HOLDINGPEN_SIZE" ; holdingpen-status -s "$1"' sh "$socket"
rc=$?
if test "$rc" -ne 0 ; then
  echo "$PROG: fatal: holdingpen-claim exited $rc; the broker's log:" 1>&2
  cat "$log" 1>&2
  exit 1
fi

echo "$PROG: after the lease ended:"
holdingpen-status -s "$socket" || { echo "$PROG: fatal: holdingpen-status failed" 1>&2 ; exit 1 ; }

echo "$PROG: stopping"
show_log=true
exit 0
