# Functions for the tests of the resource kinds (tests/3[1-9]-*.t, and the
# others that mount a filesystem or make a cgroup). POSIX sh; sourced after
# lib.sh. Its functions are hpk_*, its variables HPK_*.
#
# These tests change the machine: they mount small private filesystems, raise
# vm.nr_hugepages, make memory cgroups. Every change is registered with
# hp_at_exit (lib.sh) and undone by lib.sh's exit path, after the daemon and
# every tracked process are gone (a mount or a cgroup cannot go while
# something uses it). This file sets no trap.
#
# Measurements are per process (VmLck, VmRSS, CPU time) or on a filesystem
# the test made, so that other activity on the machine does not disturb them.
# HugePages_Free is system-wide: the hugetlb tests compare it only across
# short intervals.

# --- reading numbers ------------------------------------------------------------

# hpk_key TEXT KEY: the value of KEY in key=value lines (a probe's output).
hpk_key() {
  printf '%s\n' "$1" | awk -v k="$2" 'index($0, k "=") == 1 { print substr($0, length(k) + 2) ; exit }'
}

# hpk_meminfo FIELD: a field of /proc/meminfo, as printed (kB or a count).
hpk_meminfo() {
  awk -v f="$1:" '$1 == f { print $2 ; exit }' /proc/meminfo
}

# hpk_status_bytes PID FIELD: a kB field of /proc/PID/status (VmLck,
# VmRSS...) in bytes; empty if the process is gone.
hpk_status_bytes() {
  awk -v f="$2:" '$1 == f { print $2 * 1024 ; exit }' "/proc/$1/status" 2>/dev/null
}

# hpk_cputicks PID: user + system CPU time of PID, in clock ticks.
hpk_cputicks() {
  _hct=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  _hct=${_hct##*) }
  echo "$_hct" | awk '{ print $12 + $13 }'
}

# hpk_avail DIR: bytes available to an unprivileged user on DIR's filesystem.
hpk_avail() {
  stat -f -c '%a %S' "$1" | awk '{ printf "%.0f\n", $1 * $2 }'
}

# hpk_near A B SLACK: |A - B| <= SLACK.
hpk_near() {
  test -n "$1" && test -n "$2" || return 1
  _hn=$(($1 - $2))
  test "${_hn#-}" -le "$3"
}

# hpk_pool_helpers POOL: pids of the live helpers of POOL.
hpk_pool_helpers() {
  for _hph_p in $(hp_helper_pids) ; do
    case " $(hp_cmdline "$_hph_p") " in
      *" -p $1 "*) echo "$_hph_p" ;;
    esac
  done
}

# hpk_pool_helper POOL: the one live helper of a one-slot pool (fails if
# there is not exactly one).
hpk_pool_helper() {
  _hph1=$(hpk_pool_helpers "$1")
  test -n "$_hph1" && test "$(echo "$_hph1" | wc -l)" -eq 1 || return 1
  echo "$_hph1"
}

# --- filesystems ------------------------------------------------------------------

# hpk_tmpfs DIR SIZE: mounts a private tmpfs of SIZE (mount syntax: 40m) on
# DIR, unmounted at exit. Fails (with HPK_WHY set) if mounting is refused.
hpk_tmpfs() {
  mkdir -p "$1"
  if ! HPK_WHY=$(mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1" 2>&1) ; then
    HPK_WHY="cannot mount a tmpfs: ${HPK_WHY:-mount failed}"
    return 1
  fi
  hp_at_exit "hp_until 3000 umount $(hp__quote "$1") 2>/dev/null || umount -l $(hp__quote "$1")"
}

# --- hugepages -------------------------------------------------------------------

HPK_HUGE_ADDED=0

# hpk_hugepagesize: the default hugepage size in bytes; empty if none.
hpk_hugepagesize() {
  awk '$1 == "Hugepagesize:" { print $2 * 1024 ; exit }' /proc/meminfo
}

# hpk_hugepages_add N: raises vm.nr_hugepages by N, so that N more hugepages
# are free; lowered by as much at exit (not reset: another user may have
# raised it meanwhile). Fails (HPK_WHY set) if the kernel cannot find them.
hpk_hugepages_add() {
  _hha_before=$(hpk_meminfo HugePages_Free)
  _hha_nr=$(cat /proc/sys/vm/nr_hugepages) || { HPK_WHY="cannot read vm.nr_hugepages" ; return 1 ; }
  if ! (echo $((_hha_nr + $1)) > /proc/sys/vm/nr_hugepages) 2>/dev/null ; then
    HPK_WHY="cannot write vm.nr_hugepages"
    return 1
  fi
  _hha_got=$(($(cat /proc/sys/vm/nr_hugepages) - _hha_nr))
  if test "$HPK_HUGE_ADDED" -eq 0 ; then
    hp_at_exit 'echo $(($(cat /proc/sys/vm/nr_hugepages) - HPK_HUGE_ADDED)) > /proc/sys/vm/nr_hugepages'
  fi
  HPK_HUGE_ADDED=$((HPK_HUGE_ADDED + _hha_got))
  if test "$_hha_got" -lt "$1" || test "$(hpk_meminfo HugePages_Free)" -lt $((_hha_before + $1)) ; then
    HPK_WHY="asked the kernel for $1 more hugepages, it found $_hha_got"
    return 1
  fi
  return 0
}

# --- memory cgroups ------------------------------------------------------------------

# hpk_memcg LIMIT: makes a memory cgroup below this shell's own, limited to
# LIMIT bytes, removed at exit. Sets HPK_CG (its directory) and HPK_CG_V (1
# or 2). Fails with HPK_WHY set if neither cgroup v2 memory.max nor v1
# memory.limit_in_bytes can be used here.
hpk_memcg() {
  HPK_CG=
  _hmc_name="holdingpen-test-$$"
  # v2: the unified hierarchy with the memory controller
  _hmc_mnt=$(awk '$3 == "cgroup2" { print $2 ; exit }' /proc/self/mounts)
  _hmc_path=$(awk -F: '$1 == "0" && $2 == "" { print $3 ; exit }' /proc/self/cgroup)
  if test -n "$_hmc_mnt" && grep -qw memory "$_hmc_mnt$_hmc_path/cgroup.controllers" 2>/dev/null ; then
    if mkdir "$_hmc_mnt$_hmc_path/$_hmc_name" 2>/dev/null ; then
      hp_at_exit "hpk__rmcg $(hp__quote "$_hmc_mnt$_hmc_path/$_hmc_name")"
      if test -f "$_hmc_mnt$_hmc_path/$_hmc_name/memory.max" \
       && (echo "$1" > "$_hmc_mnt$_hmc_path/$_hmc_name/memory.max") 2>/dev/null ; then
        echo 0 > "$_hmc_mnt$_hmc_path/$_hmc_name/memory.swap.max" 2>/dev/null
        HPK_CG="$_hmc_mnt$_hmc_path/$_hmc_name" ; HPK_CG_V=2
        return 0
      fi
    fi
  fi
  # v1: the hierarchy that has the memory controller
  _hmc_mnt=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2 ; exit }' /proc/self/mounts)
  _hmc_path=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 ; exit }' /proc/self/cgroup)
  if test -n "$_hmc_mnt" && mkdir "$_hmc_mnt$_hmc_path/$_hmc_name" 2>/dev/null ; then
    hp_at_exit "hpk__rmcg $(hp__quote "$_hmc_mnt$_hmc_path/$_hmc_name")"
    if (echo "$1" > "$_hmc_mnt$_hmc_path/$_hmc_name/memory.limit_in_bytes") 2>/dev/null ; then
      HPK_CG="$_hmc_mnt$_hmc_path/$_hmc_name" ; HPK_CG_V=1
      return 0
    fi
  fi
  HPK_WHY="no writable memory cgroup (neither v2 memory.max nor v1 memory.limit_in_bytes)"
  return 1
}

hpk__rmcg() {
  hp_until 3000 rmdir "$1" 2>/dev/null || rmdir "$1"
}

# hpk_cg_run COMMAND...: runs COMMAND inside $HPK_CG (in the foreground).
hpk_cg_run() {
  sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$HPK_CG" "$@"
}

# hpk_cg_bg COMMAND...: hp_bg, inside $HPK_CG (HP_BG_PID is COMMAND's pid).
hpk_cg_bg() {
  hp_bg sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$HPK_CG" "$@"
}

# hpk_cg_usage: bytes charged to $HPK_CG now.
hpk_cg_usage() {
  if test "$HPK_CG_V" = 2 ; then cat "$HPK_CG/memory.current" ; else cat "$HPK_CG/memory.usage_in_bytes" ; fi
}

# hpk_cg_oom_kills: how many processes the OOM killer killed in $HPK_CG.
hpk_cg_oom_kills() {
  if test "$HPK_CG_V" = 2 ; then _hco="$HPK_CG/memory.events" ; else _hco="$HPK_CG/memory.oom_control" ; fi
  awk '$1 == "oom_kill" { print $2 ; f = 1 } END { if (!f) print 0 }' "$_hco"
}

# hpk_leak_and_next_are_clean CHILD POOL READPROBE SIZE: after a lease whose
# holder leaked its fd to CHILD (hp-probe-leak, reporting in $T/report on
# SIGUSR1) has ended, the leaked copy holds no page and reads only zeros, and
# the next holders of both slots of the 2-slot POOL (one claim inside the
# other, so that the scrubbed one is read for sure) read only zeros.
hpk_leak_and_next_are_clean() {
  kill -USR1 "$1"
  ok "the leaked copy reports" hp_until 5000 grep -qs '^n=1 ' "$T/report"
  _hkl_r=$(cat "$T/report" 2>/dev/null)
  like "$_hkl_r" ' resident=0 ' "no page of the leaked mapping is still there"
  like "$_hkl_r" ' nonzero=0 ' "the leaked fd reads only zeros"
  kill -TERM "$1"
  _hkl_out=$(hp_claim "$2" sh -c '"$0" && "$1" -s "$2" "$3" "$0"' "$3" "$HP_BUILD/holdingpen-claim" "$HP_SOCKET" "$2")
  is "$(printf '%s\n' "$_hkl_out" | grep -c "^size=$4 nonzero=0 first=-1\$")" 2 "the next holders of both slots read only zeros"
}
