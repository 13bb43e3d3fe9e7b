# Shared functions for the holdingpen test suite. POSIX sh; sourced by tests/*.t.
#
# TAP output: ok/is/like/cmp_ok/... print one "ok N - desc" line each and
# done_testing prints the plan at the end, so a file needs no test count.
#
# Every .t gets its own temporary directory $T. Whatever ends the script, one
# exit path (hp__cleanup, at the end of this file) stops the supervision tree
# started by hp_start_supervised, kills the background processes recorded
# with hp_track, runs the undo actions registered with hp_at_exit and
# removes $T. Neither the other libraries nor a .t set a trap in the test's
# own shell: they register what to undo with hp_at_exit.
#
# HP_BUILD is the absolute path of the build tree (set by make check); the
# programs are taken from there, never from $PATH. The probes are taken from
# tests/probe/ in the build tree, or compiled into $T if they are missing.

HP_TESTDIR=$(cd "$(dirname "$0")" && pwd)
if test -z "$HP_BUILD" ; then
  HP_BUILD=$(cd "$HP_TESTDIR/.." && pwd)
fi
export HP_BUILD

_tap_n=0
_tap_failed=0
_tap_planned=
_tap_done=

# --- TAP ---------------------------------------------------------------------

plan() {
  _tap_planned=$1
  echo "1..$1"
}

skip_all() {
  echo "1..0 # SKIP $*"
  _tap_done=1
  exit 0
}

pass() {
  _tap_n=$((_tap_n + 1))
  echo "ok $_tap_n - $*"
  return 0
}

fail() {
  _tap_n=$((_tap_n + 1))
  _tap_failed=$((_tap_failed + 1))
  echo "not ok $_tap_n - $*"
  return 1
}

diag() {
  printf '%s\n' "$@" | sed 's/^/# /' 1>&2
}

note() {
  printf '%s\n' "$@" | sed 's/^/# /'
}

# ok DESC COMMAND...: passes if COMMAND exits 0.
ok() {
  _ok_desc=$1 ; shift
  if "$@" ; then pass "$_ok_desc" ; else fail "$_ok_desc" ; diag "command failed: $*" ; return 1 ; fi
}

# nok DESC COMMAND...: passes if COMMAND exits non-zero.
nok() {
  _nok_desc=$1 ; shift
  if "$@" ; then fail "$_nok_desc" ; diag "command succeeded: $*" ; return 1 ; else pass "$_nok_desc" ; fi
}

# is GOT EXPECTED DESC
is() {
  if test "x$1" = "x$2" ; then pass "$3" ; else
    fail "$3"
    diag "     got: '$1'" "expected: '$2'"
    return 1
  fi
}

# isnt GOT UNEXPECTED DESC
isnt() {
  if test "x$1" != "x$2" ; then pass "$3" ; else
    fail "$3"
    diag "     got: '$1'" "expected anything else"
    return 1
  fi
}

# like GOT ERE DESC
like() {
  if printf '%s\n' "$1" | grep -Eq -- "$2" ; then pass "$3" ; else
    fail "$3"
    diag "                  '$1'" "doesn't match '$2'"
    return 1
  fi
}

# unlike GOT ERE DESC
unlike() {
  if printf '%s\n' "$1" | grep -Eq -- "$2" ; then
    fail "$3"
    diag "                  '$1'" "      matches '$2'"
    return 1
  else pass "$3" ; fi
}

# cmp_ok GOT OP EXPECTED DESC, OP one of -eq -ne -lt -le -gt -ge (integers).
cmp_ok() {
  if test -n "$1" && test -n "$3" && test "$1" "$2" "$3" 2>/dev/null ; then pass "$4" ; else
    fail "$4"
    diag "    '$1'" "        $2" "    '$3'"
    return 1
  fi
}

# skip REASON [COUNT]
skip() {
  _skip_i=0
  while test $_skip_i -lt "${2:-1}" ; do
    _tap_n=$((_tap_n + 1))
    echo "ok $_tap_n # skip $1"
    _skip_i=$((_skip_i + 1))
  done
}

bail_out() {
  echo "Bail out! $*"
  _tap_done=1
  exit 255
}

done_testing() {
  if test -z "$_tap_planned" ; then
    echo "1..$_tap_n"
  elif test "$_tap_planned" -ne "$_tap_n" ; then
    diag "planned $_tap_planned tests but ran $_tap_n"
    _tap_failed=$((_tap_failed + 1))
  fi
  _tap_done=1
  if test $_tap_failed -gt 0 ; then
    diag "failed $_tap_failed of $_tap_n tests"
    exit 1
  fi
  exit 0
}

# --- time, polling, processes ------------------------------------------------

hp_now_ms() {
  date +%s%3N
}

# hp_until TIMEOUT_MS COMMAND...: runs COMMAND until it succeeds (returns 0)
# or TIMEOUT_MS have passed (returns 1). Polls every 20 ms.
hp_until() {
  _hu_deadline=$(($(hp_now_ms) + $1)) ; shift
  while : ; do
    if "$@" ; then return 0 ; fi
    if test "$(hp_now_ms)" -ge "$_hu_deadline" ; then return 1 ; fi
    sleep 0.02
  done
}

# hp_stays TIME_MS COMMAND...: succeeds if COMMAND keeps succeeding, polled
# every 50 ms, for TIME_MS. Used for "still held", "still waiting" checks.
hp_stays() {
  _hs_deadline=$(($(hp_now_ms) + $1)) ; shift
  while : ; do
    if ! "$@" ; then return 1 ; fi
    if test "$(hp_now_ms)" -ge "$_hs_deadline" ; then return 0 ; fi
    sleep 0.05
  done
}

# hp_alive PID: the process exists and is not a zombie.
hp_alive() {
  test -n "$1" || return 1
  _ha_stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  _ha_stat=${_ha_stat##*) }
  case $_ha_stat in
    Z*|X*|x*) return 1 ;;
  esac
  return 0
}

hp_dead() {
  ! hp_alive "$1"
}

# hp_all_dead PID...: none of the processes is alive.
hp_all_dead() {
  for _had_p in "$@" ; do
    if hp_alive "$_had_p" ; then return 1 ; fi
  done
  return 0
}

# hp__ptable: "pid ppid" for every process, in one pass over /proc (the
# command name in /proc/PID/stat may hold spaces and parentheses: the fields
# that follow it start after its last ')').
hp__ptable() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk '{
    i = length($0) ; while (i > 0 && substr($0, i, 1) != ")") i--
    n = split(substr($0, i + 2), f, " ")
    if (n >= 2) print $1, f[2] }'
}

# hp_children PID: the pids whose parent is PID.
hp_children() {
  hp__ptable | awk -v r="$1" '$2 == r { print $1 }'
}

# hp_descendants PID: every process below PID (not PID itself).
hp_descendants() {
  hp__ptable | awk -v r="$1" '
    { kids[$2] = kids[$2] " " $1 }
    END { q[1] = r ; h = 1 ; t = 1
      while (h <= t) { n = split(kids[q[h]], k, " ") ; h++
        for (i = 1; i <= n; i++) { print k[i] ; q[++t] = k[i] } } }'
}

hp_cmdline() {
  tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null
}

# hp__starttime PID: when PID started (field 22 of /proc/PID/stat, in clock
# ticks since boot); fails if there is no such process.
hp__starttime() {
  _hsti=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  _hsti=${_hsti##*) }
  # shellcheck disable=SC2086
  set -- $_hsti
  test $# -ge 20 || return 1
  eval "echo \${20}"
}

# hp__same_process PID STARTTIME: PID is alive and is still the process that
# was tracked (not another one that got its pid since).
hp__same_process() {
  test -n "$2" && hp_alive "$1" && test "x$(hp__starttime "$1")" = "x$2"
}

# hp_track PID...: remember background processes; they are killed on exit
# (if they still are the same processes: a pid and its start time).
hp_track() {
  for _ht_p in "$@" ; do
    echo "$_ht_p $(hp__starttime "$_ht_p")" >> "$T/.pids"
  done
}

# hp_bg COMMAND...: starts COMMAND in the background with stdin from
# /dev/null, tracks it, and sets HP_BG_PID. Redirect its output yourself if
# the test reads it: "hp_bg cmd > file 2>&1" redirects the whole function.
hp_bg() {
  "$@" < /dev/null &
  HP_BG_PID=$!
  hp_track "$HP_BG_PID"
}

# hp_fd_count PID: number of open fds of PID.
hp_fd_count() {
  ls "/proc/$1/fd" 2>/dev/null | wc -l | tr -d ' '
}

# hp_rss_kb PID: VmRSS of PID in kB.
hp_rss_kb() {
  awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

# hp_shmem: Shmem of the whole machine, in bytes.
hp_shmem() {
  # the product in sh: awk may print a big one as 2.14748e+09
  _hsh=$(awk '$1 == "Shmem:" { print $2 }' /proc/meminfo)
  echo $((_hsh * 1024))
}

# hp_shmem_slack: how far apart two readings of Shmem may be without any
# change in memory. The kernel keeps a per-CPU delta of each vmstat counter
# (below 125 pages per CPU) and folds it into the total lazily, so a
# difference of two readings is off by less than 2 x ncpus x 125 pages.
hp_shmem_slack() {
  echo $((2 * $(getconf _NPROCESSORS_CONF) * 125 * $(getconf PAGESIZE)))
}

# --- probes ------------------------------------------------------------------

# hp_probe NAME: prints the path of a probe, building it into $T if the build
# tree does not have it (running a .t by hand without make check).
hp_probe() {
  if test -x "$HP_BUILD/tests/probe/$1" ; then
    echo "$HP_BUILD/tests/probe/$1"
    return 0
  fi
  if test -x "$HP_TESTDIR/probe/$1" ; then
    echo "$HP_TESTDIR/probe/$1"
    return 0
  fi
  mkdir -p "$T/probe"
  if ! test -x "$T/probe/$1" ; then
    ${CC:-cc} -std=c99 -Wall -Wextra -O2 -o "$T/probe/$1" "$HP_TESTDIR/probe/$1.c" 1>&2 || return 1
  fi
  echo "$T/probe/$1"
}

# hp_preload NAME: prints the path of a shim for LD_PRELOAD
# (tests/probe/preload/NAME.so), building it into $T if the build tree does
# not have it.
hp_preload() {
  if test -f "$HP_BUILD/tests/probe/preload/$1.so" ; then
    echo "$HP_BUILD/tests/probe/preload/$1.so"
    return 0
  fi
  mkdir -p "$T/probe"
  if ! test -f "$T/probe/$1.so" ; then
    ${CC:-cc} -std=c99 -Wall -Wextra -O2 -fPIC -shared -o "$T/probe/$1.so" "$HP_TESTDIR/probe/preload/$1.c" -ldl 1>&2 || return 1
  fi
  echo "$T/probe/$1.so"
}

# --- pools and the supervised daemon ------------------------------------------

# hp_pool NAME SIZE [COUNT [FILE=VALUE...]]: creates a pool in $T/pools.
hp_pool() {
  _hp_dir="$T/pools/$1"
  mkdir -p "$_hp_dir"
  echo "$2" > "$_hp_dir/size"
  echo "${3:-1}" > "$_hp_dir/count"
  echo memfd > "$_hp_dir/kind"
  shift 2
  test $# -gt 0 && shift
  for _hp_kv in "$@" ; do
    echo "${_hp_kv#*=}" > "$_hp_dir/${_hp_kv%%=*}"
  done
}

hp__quote() {
  printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# hp_start_supervised [DAEMON OPTIONS...]: runs holdingpen-daemon -1 under a
# real s6-svscan on a scan directory in $T. The daemon's stderr (the log) goes
# to $T/log, its socket is $HP_SOCKET ($T/socket), its service directory is
# $HP_SVC. Returns at once; call hp_wait_up to wait for readiness.
hp_start_supervised() {
  HP_SCANDIR="$T/scan"
  HP_SVC="$HP_SCANDIR/holdingpen"
  HP_SOCKET="$T/socket"
  HOLDINGPEN_SOCKET=$HP_SOCKET
  export HOLDINGPEN_SOCKET
  mkdir -p "$HP_SVC"
  _hss_opts=
  for _hss_o in "$@" ; do
    _hss_opts="$_hss_opts $(hp__quote "$_hss_o")"
  done
  {
    echo '#!/bin/sh'
    echo "exec 2>>$(hp__quote "$T/log")"
    echo "PATH=$(hp__quote "$HP_BUILD"):\$PATH"
    echo 'export PATH'
    echo "exec holdingpen-daemon -1 -H $(hp__quote "$HP_BUILD/holdingpen-helper")$_hss_opts $(hp__quote "$HP_SOCKET")"
  } > "$HP_SVC/run"
  chmod 755 "$HP_SVC/run"
  echo 1 > "$HP_SVC/notification-fd"
  : >> "$T/log"
  s6-svscan "$HP_SCANDIR" < /dev/null > "$T/svscan.log" 2>&1 &
  HP_SVSCAN_PID=$!
}

# hp_supervised SERVICEDIR: s6-supervise runs on it and has written its
# status. s6-svok answers as soon as s6-supervise has taken its lock, a
# moment before it writes supervise/status; s6-svwait run in that moment
# cannot read the status and exits 111.
hp_supervised() {
  s6-svok "$1" 2> /dev/null && test -f "$1/supervise/status"
}

# hp_wait_up [TIMEOUT_MS]: waits until the service is up and ready (the daemon
# wrote its readiness line). Fails if that takes more than TIMEOUT_MS (10 s).
hp_wait_up() {
  hp_until 5000 hp_supervised "$HP_SVC" || return 1
  s6-svwait -U -t "${1:-10000}" "$HP_SVC"
}

# hp_svc_down: brings the service down (SIGTERM) and waits, at most 5 s,
# until the daemon and its helpers are gone.
hp_svc_down() {
  _hsd_pid=$(hp_daemon_pid) || { s6-svc -d "$HP_SVC" ; return 0 ; }
  _hsd_helpers=$(hp_helper_pids "$_hsd_pid")
  s6-svc -d "$HP_SVC"
  # shellcheck disable=SC2086
  hp_until 5000 hp_all_dead "$_hsd_pid" $_hsd_helpers
}

# hp_svc_up: brings the service up again and waits until it is ready.
hp_svc_up() {
  s6-svc -u "$HP_SVC"
  hp_wait_up
}

# hp_daemon_pid: pid of the supervised holdingpend (holdingpen-daemon execs
# into it, so it is the service's pid); empty if the service is down.
hp_daemon_pid() {
  _hdp=$(s6-svstat -p "$HP_SVC" 2>/dev/null)
  case $_hdp in
    ''|-1|0) return 1 ;;
  esac
  echo "$_hdp"
  hp_track "$_hdp"
}

# hp_helper_pids [DAEMONPID]: the live holdingpen-helper processes below the daemon.
hp_helper_pids() {
  _hhp_d=${1:-$(hp_daemon_pid)} || return 1
  for _hhp_p in $(hp_descendants "$_hhp_d") ; do
    case $(hp_cmdline "$_hhp_p") in
      *holdingpen-helper*)
        if hp_alive "$_hhp_p" ; then
          echo "$_hhp_p"
          hp_track "$_hhp_p"
        fi ;;
    esac
  done
  return 0
}

hp_helper_count() {
  hp_helper_pids "$@" | wc -l | tr -d ' '
}

# hp_stop: brings the supervision tree down and kills whatever is left of it.
hp_stop() {
  test -n "$HP_SVSCAN_PID" || return 0
  _hst_pids="$(hp_descendants "$HP_SVSCAN_PID")"
  s6-svscanctl -t "$HP_SCANDIR" > /dev/null 2>&1
  if ! hp_until 5000 hp_dead "$HP_SVSCAN_PID" ; then
    diag "s6-svscan did not exit within 5 s; killing the tree"
    for _hst_p in $_hst_pids ; do kill -KILL "$_hst_p" 2>/dev/null ; done
    kill -KILL "$HP_SVSCAN_PID" 2>/dev/null
  fi
  wait "$HP_SVSCAN_PID" 2>/dev/null
  for _hst_p in $_hst_pids ; do
    hp_alive "$_hst_p" && kill -KILL "$_hst_p" 2>/dev/null
  done
  HP_SVSCAN_PID=
  return 0
}

# --- talking to the daemon -----------------------------------------------------

# hp_claim [CLAIM OPTIONS] POOL PROG...: holdingpen-claim on the test socket,
# bounded by 60 s so that a hang fails the test instead of stalling the suite.
hp_claim() {
  timeout -s KILL 60 "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" "$@"
}

# hp_hold [-u UID:GID] NAME [CLAIM OPTIONS] POOL: a holder in the background,
# as root or, with -u, as that uid and gid with no supplementary groups. Once
# its claim is granted it writes the time (ms) to NAME.t and the lease id to
# NAME.lease, then becomes "sleep 1000" (same pid: s6-applyuidgid,
# holdingpen-claim and sh exec), so that killing $HP_HOLD_PID ends the
# lease. Those files are in $T, or with -u in $T/pub (writable by anyone,
# made by hpp_open_tmp from lib-policy.sh); hp_holds and hp_lease find them.
# Its output goes to $T/NAME.out. Also sets HOLD_NAME to the pid.
hp_hold() {
  _hh_who=
  if test "x$1" = x-u ; then _hh_who=$2 ; shift 2 ; fi
  _hh_name=$1 ; shift
  rm -f "$T/$_hh_name.lease" "$T/$_hh_name.t" "$T/$_hh_name.tmp" \
    "$T/pub/$_hh_name.lease" "$T/pub/$_hh_name.t" "$T/pub/$_hh_name.tmp"
  if test -n "$_hh_who" ; then
    _hh_dir=$T/pub
    set -- s6-applyuidgid -u "${_hh_who%%:*}" -g "${_hh_who#*:}" -G "" "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" "$@"
  else
    _hh_dir=$T
    set -- "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" "$@"
  fi
  "$@" sh -c 'date +%s%3N > "$0.t" ; echo "$HOLDINGPEN_LEASE" > "$0.tmp" && mv "$0.tmp" "$0.lease" ; exec sleep 1000' "$_hh_dir/$_hh_name" < /dev/null > "$T/$_hh_name.out" 2>&1 &
  HP_HOLD_PID=$!
  hp_track "$HP_HOLD_PID"
  eval "HOLD_$_hh_name=\$HP_HOLD_PID"
}

# hp_holds NAME: the holder NAME got its slot.
hp_holds() {
  test -s "$T/$1.lease" || test -s "$T/pub/$1.lease"
}

# hp_lease NAME: the lease id of the holder NAME (empty until it holds).
hp_lease() {
  cat "$T/$1.lease" 2>/dev/null || cat "$T/pub/$1.lease" 2>/dev/null
}

# hp_status [ARGS...]: holdingpen-status -k on the test socket.
hp_status() {
  timeout -s KILL 20 "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" -k "$@"
}

# hp_field POOL KEY: the value of KEY in POOL's record of holdingpen-status -k.
hp_field() {
  hp_status "$1" | awk -v p="pool=$1" -v k="$2" '
    $1 == p { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2) ; exit } }'
}

# hp_field_is POOL KEY VALUE (for hp_until / hp_stays).
hp_field_is() {
  test "x$(hp_field "$1" "$2")" = "x$3"
}

# hp_log_count ERE: number of lines of the daemon's log matching ERE.
hp_log_count() {
  grep -cE -- "$1" "$T/log" 2>/dev/null || true
}

hp_log_has() {
  grep -Eq -- "$1" "$T/log" 2>/dev/null
}

# hp_log_kv WORD...: prints the log lines that contain every WORD as a
# whole space-separated word ("event=grant" "pool=mem"), in any order.
hp_log_kv() {
  awk 'BEGIN { for (i = 1; i < ARGC; i++) w[i] = ARGV[i] ; n = ARGC - 1 ; ARGC = 1 }
    { delete have ; for (j = 1; j <= NF; j++) have[$j] = 1
      for (i = 1; i <= n; i++) if (!(w[i] in have)) next
      print }' "$@" < "$T/log"
}

# hp_log_kv_count WORD...: how many such lines.
hp_log_kv_count() {
  hp_log_kv "$@" | wc -l | tr -d ' '
}

# hp_log_kv_has WORD...: at least one such line.
hp_log_kv_has() {
  test "$(hp_log_kv_count "$@")" -gt 0
}

# hp_log_no_double_grant: reads the log and checks that no slot of any pool
# was granted again while a lease on it was live (grant ... release or end
# pairs, in log order; a restart keeps only the leases it took back), and
# that no lease id was granted twice, restarts or not. Prints the offending
# lines and fails if one was.
hp_log_no_double_grant() {
  awk '
    function val(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2) ; return "" }
    # a new holdingpend knows only the leases it took back: one granted just
    # before a crash, and not kept in time, is lost to it, not ended
    / event=start / { for (s in holder) delete holder[s] ; next }
    / event=restored / { s = val("pool") "/" val("slot") ; holder[s] = val("lease") ; next }
    / event=grant / { s = val("pool") "/" val("slot") ; l = val("lease")
      if (l in granted) { print "lease " l " granted twice" ; bad = 1 }
      granted[l] = 1
      if (s in holder) { print "slot " s " granted to lease " l " while lease " holder[s] " held it" ; bad = 1 }
      holder[s] = l ; slotof[l] = s ; next }
    / event=(release|end) / { l = val("lease") ; s = val("pool") "/" val("slot")
      if (l in slotof) s = slotof[l]
      if ((s in holder) && holder[s] == l) delete holder[s]
      next }
    END { exit bad }' "$T/log"
}

# --- setup and cleanup -----------------------------------------------------------
#
# One path out of every .t, whatever ends it (done_testing, exit N, bail_out,
# skip_all, a signal): the EXIT trap set by hp_setup runs hp__cleanup, which
#  1. brings the supervision tree down (hp_stop) and kills every tracked
#     process still alive, then waits until they are gone;
#  2. runs the actions registered with hp_at_exit, last registered first,
#     each once, each in a subshell (so that one that fails or exits does
#     not stop the others);
#  3. removes $T (kept if HP_KEEP is set) and exits with the script's status.
# Signals are ignored while it runs, so that an impatient ^C does not leave
# half of it undone. Other libraries (lib-kinds.sh) register actions; they
# never set a trap of their own.

# hp_at_exit COMMAND: a shell command (one line, evaluated at exit) to undo
# something the test changed outside $T: a mount, a sysctl, a cgroup.
hp_at_exit() {
  case $1 in
    *'
'*) bail_out "hp_at_exit: the command must be one line: $1" ;;
  esac
  printf '%s\n' "$1" >> "$T/.atexit"
}

hp__cleanup() {
  _hcl_rc=$?
  trap - EXIT
  trap '' HUP INT TERM PIPE
  hp_stop
  _hcl_killed=
  if test -s "$T/.pids" ; then
    for _hcl_p in $(sort -u "$T/.pids" | tr ' ' :) ; do
      if hp__same_process "${_hcl_p%%:*}" "${_hcl_p#*:}" ; then
        kill -KILL "${_hcl_p%%:*}" 2>/dev/null
        _hcl_killed="$_hcl_killed ${_hcl_p%%:*}"
      fi
    done
    for _hcl_p in $_hcl_killed ; do
      hp_until 3000 hp_dead "$_hcl_p" || diag "process $_hcl_p survived SIGKILL"
    done
  fi
  if test -s "$T/.atexit" ; then
    sed '1!G;h;$!d' "$T/.atexit" > "$T/.atexit.rev"
    while IFS= read -r _hcl_cmd ; do
      ( eval "$_hcl_cmd" ) < /dev/null || diag "cleanup failed: $_hcl_cmd"
    done < "$T/.atexit.rev"
  fi
  if test -z "$_tap_done" ; then
    echo "# the test script exited early (status $_hcl_rc) after $_tap_n tests"
    test -z "$_tap_planned" && echo "1..$_tap_n"
    test $_hcl_rc -eq 0 && _hcl_rc=1
  fi
  if test -n "$HP_KEEP" ; then
    echo "# kept $T" 1>&2
  else
    rm -rf "$T"
  fi
  exit $_hcl_rc
}

# hp_setup: the temporary directory, the exit trap, the checks every file
# needs. Called at the end of this file; calling it again does nothing.
hp_setup() {
  test -z "$_hsu_done" || return 0
  _hsu_done=1
  for _hsu_p in holdingpend holdingpen-daemon holdingpen-claim holdingpen-status holdingpen-revoke holdingpen-helper ; do
    test -x "$HP_BUILD/$_hsu_p" || skip_all "$HP_BUILD/$_hsu_p is not built"
  done
  for _hsu_p in s6-svscan s6-svscanctl s6-svwait s6-svstat s6-svok s6-svc ; do
    command -v "$_hsu_p" > /dev/null 2>&1 || skip_all "$_hsu_p is not installed"
  done
  T=$(mktemp -d "${TMPDIR:-/tmp}/hp-test.XXXXXX") || bail_out "cannot create a temporary directory"
  : > "$T/.pids"
  : > "$T/.atexit"
  trap hp__cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 141' PIPE
}

hp_setup
