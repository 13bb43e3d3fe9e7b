# Functions for the tests of access rules, lease policy and administration
# (the rules of tests/13-16 and 19, the policy of the 20s, and the others
# that need rules, another uid or a reload). POSIX sh; sourced after lib.sh.
# Its functions are hpp_*, its variables HPP_*.

# shellcheck disable=SC2034 # used by the .t files
HPP_NOBODY=65534:65534

# hpp_open_tmp: lets other uids reach the socket in $T (the daemon makes the
# socket 0666; access is the rules' business, but the path must be
# traversable). Skips the whole file if that cannot be arranged, e.g. when
# TMPDIR is below a private directory.
hpp_open_tmp() {
  chmod 755 "$T" || skip_all "cannot chmod $T"
  command -v s6-applyuidgid > /dev/null 2>&1 || skip_all "s6-applyuidgid is not installed"
  s6-applyuidgid -u 65534 -g 65534 -G "" test -x "$T" || skip_all "$T cannot be reached by another uid (set TMPDIR to a world-traversable directory)"
  mkdir -p "$T/pub" && chmod 1777 "$T/pub"
}

# hpp_as UID:GID COMMAND...: runs COMMAND with that uid and gid and no
# supplementary groups, bounded by 60 s like hp_claim.
hpp_as() {
  _has_u=${1%%:*} ; _has_g=${1#*:} ; shift
  timeout -s KILL 60 s6-applyuidgid -u "$_has_u" -g "$_has_g" -G "" "$@"
}

# hpp_claim_as UID:GID [CLAIM OPTIONS] POOL PROG...
hpp_claim_as() {
  _hca_who=$1 ; shift
  hpp_as "$_hca_who" "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" "$@"
}

# hpp_status_as UID:GID [ARGS...]: holdingpen-status -k as that user.
hpp_status_as() {
  _hsa_who=$1 ; shift
  hpp_as "$_hsa_who" "$HP_BUILD/holdingpen-status" -s "$HP_SOCKET" -k "$@"
}

# hpp_revoke [ARGS...] and hpp_revoke_as UID:GID [ARGS...]
hpp_revoke() {
  timeout -s KILL 20 "$HP_BUILD/holdingpen-revoke" -s "$HP_SOCKET" "$@"
}

hpp_revoke_as() {
  _hra_who=$1 ; shift
  hpp_as "$_hra_who" "$HP_BUILD/holdingpen-revoke" -s "$HP_SOCKET" "$@"
}

# hpp_rule RULESDIR KEY [VAR=VALUE...]: an s6 accessrules "allow" rule, KEY
# being uid/N, gid/N or uid/default, with an env/ directory holding the
# given variables (a rule's env/ is an envdir: an empty file would unset the
# variable, so every value must be non-empty).
hpp_rule() {
  _hr_d="$1/$2" ; shift 2
  rm -rf "$_hr_d"
  mkdir -p "$_hr_d/env"
  : > "$_hr_d/allow"
  for _hr_kv in "$@" ; do
    printf '%s\n' "${_hr_kv#*=}" > "$_hr_d/env/${_hr_kv%%=*}"
  done
}

# hpp_reloads: how many reloads the daemon has applied or refused (log lines).
hpp_reloads() {
  hp_log_kv_count event=reload
}

# hpp_reloads_gt N: more than N reload lines in the log (for hp_until).
hpp_reloads_gt() {
  test "$(hpp_reloads)" -gt "$1"
}

# hpp_hup: s6-svc -h on the service, then waits (5 s at most) for the reload
# line it causes.
hpp_hup() {
  _hhu_n=$(hpp_reloads)
  s6-svc -h "$HP_SVC" || return 1
  hp_until 5000 hpp_reloads_gt "$_hhu_n"
}

# hpp_lines FILE: number of lines in FILE.
hpp_lines() {
  wc -l < "$1" | tr -d ' '
}
