#!/bin/sh
# holdingpen-daemon refuses (exit 100, one line) to bind its socket in a
# directory that another user can write to: root creates the socket and,
# with -d, its .lock there, and would follow a symlink planted in its place.
# A root-owned sticky directory like /tmp is accepted: the .lock is made
# (without following a symlink) and checked before the socket is bound, a
# planted symlink or someone else's file in its place is refused.
. "$(dirname "$0")/lib.sh"

hp_pool a 1M 1

# run DIR [OPTIONS]: holdingpen-daemon on DIR/sock for at most 3 s; sets rc
# (124: it was still serving) and err (its stderr, without the warnings of
# helpers that cannot set their OOM score here).
run() {
  _d=$1 ; shift
  timeout 3 "$HP_BUILD/holdingpen-daemon" -1 -H "$HP_BUILD/holdingpen-helper" -p "$T/pools" "$@" "$_d/sock" < /dev/null > "$T/ready" 2> "$T/err"
  rc=$?
  err=$(grep -v oom_score_adj "$T/err" | grep -v 'holdingpend: info:')
}

PATH="$HP_BUILD:$PATH"
export PATH
WHY="writable by its group or by anyone, and not both sticky and root-owned (like /tmp); put the socket in a directory of its own"

mkdir "$T/ww" "$T/gw" "$T/other" "$T/sticky" "$T/own"
chmod 777 "$T/ww"
chmod 770 "$T/gw"
chown 65534 "$T/other"
chmod 1777 "$T/sticky"

run "$T/ww"
is "$rc" 100 "a world-writable directory: exit 100"
is "$err" "holdingpen-daemon: fatal: refusing the socket's directory $T/ww: $WHY" "the line"
ok "nothing was created there" test -z "$(ls -A "$T/ww")"

run "$T/gw"
is "$rc" 100 "a group-writable directory: exit 100"

run "$T/other"
is "$rc" 100 "a directory of another user: exit 100"
is "$err" "holdingpen-daemon: fatal: refusing the socket's directory $T/other: owned by a user that is neither root nor the daemon's; put the socket in a directory of its own" "the line"

run "$T/own"
is "$rc" 124 "a directory of root's own: the daemon serves"
is "$(head -c 1 "$T/ready" | od -An -c | tr -d ' ')" '\n' "and wrote its readiness"

# --- a sticky root-owned directory, like /tmp ---
ln -s "$T/target" "$T/sticky/sock.lock"
chown -h 65534 "$T/sticky/sock.lock"
run "$T/sticky"
is "$rc" 100 "sticky: a symlink planted as sock.lock: exit 100"
is "$err" "holdingpen-daemon: fatal: refusing $T/sticky/sock.lock: it is a symbolic link, in a directory anyone can write to" "the line"
ok "its target was not created" test ! -e "$T/target"
rm "$T/sticky/sock.lock"

: > "$T/sticky/sock.lock"
chown 65534 "$T/sticky/sock.lock"
run "$T/sticky"
is "$rc" 100 "sticky: a sock.lock that another user made: exit 100"
rm "$T/sticky/sock.lock"

run "$T/sticky"
is "$rc" 124 "sticky, nothing planted: the daemon serves"
is "$(stat -c '%F %u' "$T/sticky/sock.lock")" "regular empty file 0" "the lock is root's own regular file"

done_testing
