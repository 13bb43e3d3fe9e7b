# Sourced by the tests of leases and reservations that outlive the broker,
# after lib.sh: an s6-fdholderd companion in the same scan directory.
# Its functions are hpf_* (f for the fd holder), its variables HPF_*.
#
#   hpf_fdholder       makes the fd holder's service ($T/scan/fdholder, its
#                      socket $HPF_FDHOLDER) with rules that let root keep
#                      and take back holdingpen/ identifiers
#   hpf_wait_restart OLDPID
#                      waits until s6-supervise has started another
#                      holdingpend and it is ready
#   hpf_leases         the status's lease records, sorted, without age

hpf_fdholder() {
  HPF_FDHOLDER=$T/fdholder
  mkdir -p "$T/fdrules/uid/0/env" "$T/scan/fdholder"
  : > "$T/fdrules/uid/0/allow"
  echo '^holdingpen/' > "$T/fdrules/uid/0/env/S6_FDHOLDER_STORE_REGEX"
  echo '^holdingpen/' > "$T/fdrules/uid/0/env/S6_FDHOLDER_RETRIEVE_REGEX"
  echo 1 > "$T/fdrules/uid/0/env/S6_FDHOLDER_GETDUMP"
  echo 1 > "$T/fdrules/uid/0/env/S6_FDHOLDER_LIST"
  {
    echo '#!/bin/sh'
    echo "exec 2>>$(hp__quote "$T/fdholder.log")"
    echo "exec s6-fdholder-daemon -1 -n 4000 -i $(hp__quote "$T/fdrules") $(hp__quote "$HPF_FDHOLDER")"
  } > "$T/scan/fdholder/run"
  chmod 755 "$T/scan/fdholder/run"
  echo 1 > "$T/scan/fdholder/notification-fd"
}

hpf_fdholder_up() {
  hp_until 5000 hp_supervised "$T/scan/fdholder" && s6-svwait -U -t 10000 "$T/scan/fdholder"
}

hpf_new_daemon() {
  _hnd=$(hp_daemon_pid) && test "$_hnd" != "$1"
}

hpf_wait_restart() {
  hp_until 10000 hpf_new_daemon "$1" && hp_wait_up 20000
}

hpf_leases() {
  hp_status | sed -n 's/ age=[0-9]*//p' | grep '^lease=' | sort
}

# --- the listening socket kept in the fd holder ------------------------------
#
#   hpf_listen_id      the identifier holdingpend keeps its socket under
#   hpf_listen_inodes  the inodes of the listening sockets bound to
#                      $HP_SOCKET (from /proc/net/unix), one a line
#   hpf_store_listen   stores the running holdingpend's own listening
#                      socket (its stdin) under hpf_listen_id, replacing
#                      what was there
#   hpf_listen_kept    the fd holder has something under hpf_listen_id
#   hpf_slow_start SECS  the broker's run script waits SECS before it
#                      starts: a restart leaves that long with no broker
#   hpf_claims_start POOL / hpf_claims_stop
#                      -n claims one after the other in two loops in the background;
#                      $T/claims gets "STARTMS RC ENDMS FIRST-ERROR-LINE" for each
#   hpf_restart_round LABEL HOW INODE
#                      restarts the broker (HOW: term, by s6-svc -r, or kill)
#                      while -n claims on pool m go on, and checks (TAP) that
#                      the new one is ready, that claims started once the old
#                      one was gone were all granted, none refused a
#                      connection, and the same socket (INODE) listens

hpf_listen_id() {
  echo "holdingpen/listen$HP_SOCKET"
}

hpf_listen_inodes() {
  # Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 is
  # __SO_ACCEPTCON, a listening socket
  awk -v p="$HP_SOCKET" '$4 == "00010000" && $8 == p { print $7 }' /proc/net/unix | sort -u
}

hpf_store_listen() {
  _hsl_pid=$(hp_daemon_pid) || return 1
  _hsl_getfd=$(hp_probe hp-probe-getfd) || return 1
  s6-fdholder-delete "$HPF_FDHOLDER" "$(hpf_listen_id)" 2> /dev/null
  "$_hsl_getfd" "$_hsl_pid" 0 s6-fdholder-store "$HPF_FDHOLDER" "$(hpf_listen_id)"
}

hpf_listen_kept() {
  s6-fdholder-list "$HPF_FDHOLDER" | grep -qxF -- "$(hpf_listen_id)"
}

hpf_slow_start() {
  sed "/^exec holdingpen-daemon /i sleep $1" "$HP_SVC/run" > "$HP_SVC/run.new" &&
  chmod 755 "$HP_SVC/run.new" && mv -f "$HP_SVC/run.new" "$HP_SVC/run"
}

hpf_claims_start() {
  rm -f "$T/claims.stop"
  : > "$T/claims"
  HPF_CLAIMS_PIDS=
  # two loops: one claim waiting in the backlog through a whole restart
  # must not leave the restart without a claim that started during it
  for _hcs_i in 1 2 ; do
    (
      while test ! -e "$T/claims.stop" ; do
        _hcs_t0=$(hp_now_ms)
        timeout -s KILL 20 "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -n "$1" true 2> "$T/claims.err$_hcs_i"
        _hcs_rc=$?
        echo "$_hcs_t0 $_hcs_rc $(hp_now_ms) $(head -n 1 "$T/claims.err$_hcs_i")" >> "$T/claims"
      done
    ) < /dev/null > /dev/null 2>&1 &
    HPF_CLAIMS_PIDS="$HPF_CLAIMS_PIDS $!"
    hp_track "$!"
  done
}

# A claim the old broker accepted before it went may die with it (a -n
# claim does not outlive its broker): the round's claims are counted from
# the moment the old broker is gone.
hpf_restart_round() {
  _hrr_pid=$(hp_daemon_pid)
  hpf_claims_start m
  sleep 0.5
  if test "$2" = kill ; then kill -KILL "$_hrr_pid" ; else s6-svc -r "$HP_SVC" ; fi
  hp_until 10000 hp_dead "$_hrr_pid"
  _hrr_t0=$(hp_now_ms)
  hpf_wait_restart "$_hrr_pid"
  is "$?" 0 "$1: a new holdingpend is up and ready"
  _hrr_t1=$(hp_now_ms)
  sleep 0.5
  hpf_claims_stop
  note "$1: $(wc -l < "$T/claims") claims, $(hpf_claims_between "$_hrr_t0" "$_hrr_t1") started during the restart ($((_hrr_t1 - _hrr_t0)) ms)," \
    "their exit codes: $(awk '{ print $2 }' "$T/claims" | sort | uniq -c | tr -s ' \n' ' ')"
  cmp_ok "$(hpf_claims_across "$_hrr_t0" "$_hrr_t1")" -ge 1 "$1: claims were made during the restart"
  is "$(hpf_claims_refused)" 0 "$1: none was refused a connection"
  grep ' 111 ' "$T/claims" | sed 's/^/# /'
  is "$(hpf_claims_failed_between "$_hrr_t0" "$_hrr_t1")" "" "$1: every claim made once the old broker was gone was granted"
  is "$(hpf_listen_inodes)" "$3" "$1: the same socket listens on the path (inode $3)"
}

hpf_claims_stop() {
  : > "$T/claims.stop"
  for _hcx_p in $HPF_CLAIMS_PIDS ; do
    hp_until 25000 hp_dead "$_hcx_p"
    wait "$_hcx_p" 2> /dev/null
  done
  return 0
}

# hpf_claims_refused: how many claims were refused a connection.
hpf_claims_refused() {
  grep -c ' 111 .*Connection refused' "$T/claims"
}

# hpf_claims_between T0 T1: how many claims started between T0 and T1 (ms).
hpf_claims_between() {
  awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b' "$T/claims" | wc -l | tr -d ' '
}

# hpf_claims_across T0 T1: how many claims were under way at some time
# between T0 and T1 (ms): started before T1, ended after T0.
hpf_claims_across() {
  awk -v a="$1" -v b="$2" '$1 <= b && $3 >= a' "$T/claims" | wc -l | tr -d ' '
}

# hpf_claims_failed_between T0 T1: the claims started between T0 and T1
# (ms) that failed, one a line. One that started before T0 may have been
# taken by the broker that was killed, and die with it: not counted.
hpf_claims_failed_between() {
  awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && $2 != 0' "$T/claims"
}

# --- faults of the fd holder and checks of what it keeps ------------------------
#
#   hpf_fdholder_pid   the pid of the running s6-fdholderd (checked: its
#                      command is s6-fdholderd), or fails
#   hpf_signal_fdholder SIG
#                      sends SIG to that pid, and only to it
#   hpf_daemon_signal SIG
#                      sends SIG to the running holdingpend (checked)
#   hpf_records_of LEASE
#                      which of lease, held, pidfd the fd holder keeps for
#                      LEASE, space-separated, in that order
#   hpf_all_kept       every lease the status lists has its three records
#   hpf_no_slot_twice  no pool/slot in two of the status's lease records
#   hpf_loop_start NAME POOL MILLISECS / hpf_loops_stop
#                      claims one after the other (-t 3000), each holder an
#                      hp-probe-soak that holds MILLISECS: $T/rec.NAME gets
#                      its lines and "done ID RC START END" for each claim
#                      (paused while $T/loops.pause exists)
#   hpf_rec_check      "dirty N lost N failed N slow N" over every rec.*:
#                      slow, a claim granted more than 1 s after it started

# hpf__is_comm PID NAME: PID is a number above 1 whose command is NAME.
hpf__is_comm() {
  case $1 in ''|*[!0-9]*) return 1 ;; esac
  test "$1" -gt 1 && test "x$(cat "/proc/$1/comm" 2> /dev/null)" = "x$2"
}

hpf_fdholder_pid() {
  _hfp=$(s6-svstat -p "$T/scan/fdholder" 2> /dev/null) || return 1
  hpf__is_comm "$_hfp" s6-fdholderd || return 1
  echo "$_hfp"
}

hpf_signal_fdholder() {
  _hsf=$(hpf_fdholder_pid) || return 1
  kill -"$1" "$_hsf"
}

hpf_daemon_signal() {
  _hds=$(hp_daemon_pid) || return 1
  hpf__is_comm "$_hds" holdingpend || return 1
  kill -"$1" "$_hds"
}

hpf_records_of() {
  s6-fdholder-list "$HPF_FDHOLDER" 2> /dev/null | awk -v l="$1" '
    index($0, "holdingpen/lease/" l "/") == 1 { a = 1 }
    index($0, "holdingpen/held/" l "/") == 1 { b = 1 }
    index($0, "holdingpen/pidfd/" l "/") == 1 || $0 == "holdingpen/pidfd/" l { c = 1 }
    END { printf "%s%s%s\n", a ? "lease " : "", b ? "held " : "", c ? "pidfd" : "" }' | sed 's/ $//'
}

hpf_all_kept() {
  _hak_list=$(s6-fdholder-list "$HPF_FDHOLDER" 2> /dev/null) || return 1
  for _hak_l in $(hp_status | sed -n 's/^lease=\([0-9]*\) .*/\1/p') ; do
    for _hak_k in lease held pidfd ; do
      printf '%s\n' "$_hak_list" | grep -q "^holdingpen/$_hak_k/$_hak_l/" || return 1
    done
  done
  return 0
}

hpf_no_slot_twice() {
  hp_status | awk '/^lease=/ { p = "" ; s = "" ; for (i = 1; i <= NF; i++) { if (index($i, "pool=") == 1) p = $i ; if (index($i, "slot=") == 1) s = $i }
    k = p "/" s ; if (k in seen) { print "twice: " k ; bad = 1 } ; seen[k] = 1 }
    END { exit bad }'
}

hpf_loop_start() {
  _hls_probe=$(hp_probe hp-probe-soak) || return 1
  (
    _hls_i=0
    while test ! -e "$T/loops.stop" ; do
      if test -e "$T/loops.pause" ; then sleep 0.02 ; continue ; fi
      _hls_i=$((_hls_i + 1))
      _hls_t0=$(hp_now_ms)
      timeout -s KILL 20 "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -t 3000 "$2" \
        "$_hls_probe" "$T/rec.$1" "$1.$_hls_i" hold "$3" > /dev/null 2>> "$T/err.$1"
      _hls_rc=$?
      echo "done $1.$_hls_i $_hls_rc $_hls_t0 $(hp_now_ms)" >> "$T/rec.$1"
    done
  ) < /dev/null > /dev/null 2>&1 &
  hp_track $!
  HPF_LOOPS="$HPF_LOOPS $!"
}

hpf_loops_stop() {
  : > "$T/loops.stop"
  # shellcheck disable=SC2086
  hp_until 30000 hp_all_dead $HPF_LOOPS
  _hlx=$?
  rm -f "$T/loops.stop"
  HPF_LOOPS=
  return $_hlx
}

hpf_rec_check() {
  cat "$T"/rec.* 2> /dev/null | awk '
    $1 == "grant" { g[$2] = $6 }
    $1 == "done" { s[$2] = $4 ; rc[$2] = $3 }
    $1 == "dirty" { dirty++ } $1 == "lost" { lost++ }
    END { for (k in s) { if (!(k in g)) { if (rc[k] != 0) failed++ } else if (g[k] - s[k] > 1000) slow++ }
      printf "dirty %d lost %d failed %d slow %d\n", dirty, lost, failed, slow }'
}

# hpf_memfds ROOTPID NAME: "INODE BLOCKS" of every distinct memfd named
# NAME (a pool's name) that ROOTPID or a process below it has open: the
# reservations that really exist, whoever keeps them (helpers, the fd
# holder, holdingpend), counted by inode, not by the machine's Shmem.
hpf_memfds() {
  for _hm_p in "$1" $(hp_descendants "$1") ; do
    for _hm_f in /proc/"$_hm_p"/fd/* ; do
      case $(readlink "$_hm_f" 2> /dev/null) in
        "/memfd:$2 (deleted)") stat -L -c '%i %b' "$_hm_f" 2> /dev/null ;;
      esac
    done
  done | sort -u
}

# hpf_reserved ROOTPID NAME: how many of those have blocks allocated
hpf_reserved() {
  hpf_memfds "$1" "$2" | awk '$2 > 0' | wc -l | tr -d ' '
}
