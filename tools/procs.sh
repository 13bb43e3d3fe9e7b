# Sourced by tools/check.sh and tools/demo.sh: find the processes a command
# left behind, without touching anyone else's.
#
# hp_tag_init sets HP_PROC_TAG to a value unique to this run, but does not
# export it: give it to the commands whose descendants are to be tracked,
# as in  HP_PROC_TAG=$HP_PROC_TAG make check . Every process that inherits
# it carries it in /proc/PID/environ; the calling script and its subshells
# do not, so they are never found.
#
#   hp_tagged_pids         prints the pids of the live tagged processes
#   hp_reap NAME SECONDS   waits up to SECONDS for them to exit, then
#                          TERMs and KILLs the rest, naming each one;
#                          returns 1 if it had to kill anything

hp_tag_init () {
  HP_PROC_TAG="holdingpen-$$-$(date +%s)-$(od -An -N4 -tx4 /dev/urandom 2>/dev/null | tr -d ' ')"
}

hp_tagged_pids () {
  for hp_d in /proc/[0-9]* ; do
    if { tr '\0' '\n' < "$hp_d/environ" ; } 2>/dev/null | grep -qxF "HP_PROC_TAG=$HP_PROC_TAG" ; then
      echo "${hp_d#/proc/}"
    fi
  done
}

hp_reap () {
  test -d /proc/self || return 0
  hp_i=0
  while test "$hp_i" -lt "$(($2 * 10))" ; do
    test -z "$(hp_tagged_pids)" && return 0
    sleep 0.1 2>/dev/null || sleep 1
    hp_i=$((hp_i + 1))
  done
  hp_left=$(hp_tagged_pids)
  test -n "$hp_left" || return 0
  for hp_pid in $hp_left ; do
    echo "$1: warning: process $hp_pid was left behind: $({ tr "\\0" " " < /proc/$hp_pid/cmdline ; } 2>/dev/null)" 1>&2
  done
  kill -TERM $hp_left 2>/dev/null
  sleep 1
  hp_left=$(hp_tagged_pids)
  test -z "$hp_left" || kill -KILL $hp_left 2>/dev/null
  return 1
}
