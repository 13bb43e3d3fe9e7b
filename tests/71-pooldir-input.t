#!/bin/sh
# The pool directory is the admin's input, and whatever is in it gives one
# clear line naming the pool and the file: at start-up holdingpend exits 100,
# on reload (SIGHUP or holdingpen-revoke -r) it keeps the old configuration.
# A FIFO in place of a setting does not hang the daemon; a regular file at
# the top, or a directory named like a setting, is refused as such; an
# unknown file (the typo "expires") is refused, hidden files are ignored. A
# file pool's dir that another user can write to is refused, unless it is
# root-owned and sticky like /tmp; so is one whose path has such a
# directory above it, or a symlink.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-policy.sh"

SETTINGS='kind, size, count, lock, dir, expire, ifelapsed, killdelay, maxperuid'

# startup NAME: runs holdingpend on the pool directory $T/NAME (bounded: a
# daemon stuck in open() ignores SIGTERM), sets rc and err (its stderr),
# and kills it if it did start.
startup() {
  timeout -s KILL 10 s6-ipcserver-socketbinder "$T/$1.socket" \
    "$HP_BUILD/holdingpend" -1 -p "$T/$1" -H "$HP_BUILD/holdingpen-helper" < /dev/null > "$T/$1.ready" 2> "$T/$1.err"
  rc=$?
  err=$(grep -v 'oom_score_adj' "$T/$1.err")
}

# refused NAME LINE DESC: start-up exits 100 with exactly LINE.
refused() {
  startup "$1"
  is "$rc" 100 "$3: exit 100"
  is "$err" "holdingpend: fatal: $2" "$3: the line"
}

goodpool() {
  mkdir -p "$T/$1/$2"
  echo 1M > "$T/$1/$2/size"
}

# --- start-up ---
goodpool fifo a
mkfifo "$T/fifo/a/kind"
refused fifo "pool a: file kind: not a regular file" "a FIFO as kind"

goodpool top a
echo 'notes' > "$T/top/README"
refused top "pool README: file README: not a directory: every entry of the pool directory is a pool, a directory of settings (names starting with a dot are ignored)" "a regular file at the top of the pool directory"

goodpool sdir a
mkdir "$T/sdir/a/kind"
refused sdir "pool a: file kind: not a regular file" "a directory named kind"

goodpool typo a
echo 60 > "$T/typo/a/expires"
refused typo "pool a: file expires: unknown setting (want $SETTINGS)" "the typo expires"

goodpool hidden a
: > "$T/hidden/a/.keep"
: > "$T/hidden/.keep"
timeout -s KILL 10 s6-ipcserver-socketbinder "$T/hidden.socket" \
  "$HP_BUILD/holdingpend" -1 -p "$T/hidden" -H "$HP_BUILD/holdingpen-helper" < /dev/null > "$T/hidden.ready" 2> "$T/hidden.err" &
hpid=$!
hp_track $hpid
ok "hidden files (.keep) in a pool and in the pool directory are ignored: the daemon becomes ready" hp_until 10000 test -s "$T/hidden.ready"
kill -TERM $hpid ; wait $hpid 2>/dev/null

# --- a file pool's dir ---
filepool() {
  mkdir -p "$T/$1/f"
  echo file > "$T/$1/f/kind"
  echo 1M > "$T/$1/f/size"
  echo "$2" > "$T/$1/f/dir"
}
mkdir "$T/ww" "$T/other" "$T/sticky" "$T/mine"
chmod 777 "$T/ww"
chown 65534 "$T/other"
chmod 1777 "$T/sticky"
filepool fww "$T/ww"
refused fww "pool f: file dir: $T/ww: writable by its group or by anyone, and not both sticky and root-owned (like /tmp)" "a world-writable dir"
filepool fother "$T/other"
refused fother "pool f: file dir: $T/other: owned by a user that is neither root nor the daemon's" "a dir owned by another user"
filepool fsticky "$T/sticky"
startup fsticky
isnt "$rc" 100 "a root-owned sticky dir like /tmp is accepted (exit $rc: stopped by timeout)"
# the whole path is checked, from /, and no link is followed
ln -s "$T/mine" "$T/lnk"
filepool flnk "$T/lnk"
refused flnk "pool f: file dir: $T/lnk: a symbolic link" "a dir that is a symlink (to a good dir)"
mkdir "$T/ww/sub"
filepool fsub "$T/ww/sub"
refused fsub "pool f: file dir: $T/ww: writable by its group or by anyone, and not both sticky and root-owned (like /tmp)" "a dir below a world-writable one, which is named"
ln -s "$T/mine" "$T/sticky/rootlink"
filepool fstickylnk "$T/sticky/rootlink"
refused fstickylnk "pool f: file dir: $T/sticky/rootlink: a symbolic link" "a symlink root made in a sticky dir"

# --- reload ---
P=$T/pools
hp_pool a 1M 1
: > "$P/a/.keep"
hp_start_supervised -p "$P"
hp_wait_up || bail_out "the daemon did not become ready"
dpid=$(hp_daemon_pid)

# reload_refused LINE DESC: SIGHUP is refused with LINE, a is still there
reload_refused() {
  _line="reload refused, keeping the old configuration: $1\$"
  _n=$(hp_log_count "$_line")
  ok "$2: s6-svc -h is answered" hpp_hup
  ok "$2: log: reload refused, naming the pool and the file" \
    hp_until 2000 eval 'test "$(hp_log_count "$_line")" -gt "$_n"'
  is "$(hp_field a size)" 1048576 "$2: pool a keeps its configuration"
}

rm "$P/a/kind" && mkfifo "$P/a/kind"
reload_refused "pool a: file kind: not a regular file" "a FIFO as a/kind"
ok "the daemon did not hang in open(): status answers" eval 'hp_status a > /dev/null'
rm "$P/a/kind" && echo memfd > "$P/a/kind"

mkdir "$P/b" && echo 1M > "$P/b/size" && mkdir "$P/b/count"
reload_refused "pool b: file count: not a regular file" "a directory named count"
hp_status b > /dev/null 2>&1
is "$?" 2 "pool b was not added"
rm -r "$P/b"

echo x > "$P/TODO"
reload_refused "pool TODO: file TODO: not a directory: every entry of the pool directory is a pool, a directory of settings \\(names starting with a dot are ignored\\)" "a regular file at the top"
rm "$P/TODO"

echo 60 > "$P/a/expires"
hpp_revoke -r > "$T/out" 2> "$T/err"
is "$?" 6 "the typo a/expires: holdingpen-revoke -r exits 6"
like "$(cat "$T/err")" "pool a: file expires: unknown setting" "and names the pool and the file"
rm "$P/a/expires"

hp_pool g 1M 1 kind=file "dir=$T/ww"
reload_refused "pool g: file dir: $T/ww: writable by its group or by anyone, and not both sticky and root-owned \\(like /tmp\\)" "a world-writable dir"
rm -r "$P/g"

hpp_revoke -r
is "$?" 0 "all fixed: the reload goes through"
hp_claim a true
is "$?" 0 "a serves claims"
ok "the daemon is the same process" eval 'test "$(hp_daemon_pid)" = "$dpid"'

done_testing
