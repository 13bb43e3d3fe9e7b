#!/bin/sh
# The test suite's own library:
# - one exit path: a .t that uses lib.sh and lib-kinds.sh, and ends by
#   done_testing, by a failing "exit 1", by bail_out or by SIGTERM, kills
#   the processes it tracked (and only those: a pid whose start time changed
#   is left alone), then runs its hp_at_exit actions last first, each once,
#   even when one fails or when a signal comes meanwhile, undoes its tmpfs
#   and its memory cgroup, removes its temporary directory and keeps its
#   exit status;
# - only lib.sh sets a trap;
# - each library function that stands in for "local" with a variable prefix
#   has a prefix of its own: no two functions of lib*.sh share one, and no
#   function of a .t shares one with the libraries;
# - each lib*.sh has function and variable prefixes (hpk_, HPK_) that no
#   other lib*.sh uses;
# - no two .t files share a number, every .t has its line in tests/README,
#   and every test README names exists.
# Each check of the tree is also run on a made-up tree with the fault it
# is there to find.
. "$(dirname "$0")/lib.sh"

# the child: a .t of its own, run with HP_LIBS (where the libraries are),
# HP_OUT (where it reports) and its ending as $1
cat > "$T/child.t" <<'EOF'
. "$HP_LIBS/lib.sh"
. "$HP_LIBS/lib-kinds.sh"
q() { hp__quote "$1" ; }
echo "$T" > "$HP_OUT/t"
hp_bg sleep 1000
echo "$HP_BG_PID" > "$HP_OUT/tracked"
# a pid recorded with a start time that is not its own: another process
# got it since, cleanup must leave it alone
sleep 1000 < /dev/null > /dev/null 2>&1 &
echo "$! $(hp__starttime $!)" > "$HP_OUT/other"
echo "$! 1" >> "$T/.pids"
hp_at_exit "echo one >> $(q "$HP_OUT/undo")"
if hpk_tmpfs "$T/fs" 1m ; then echo "$T/fs" > "$HP_OUT/mnt" ; else echo "$HPK_WHY" > "$HP_OUT/nomnt" ; fi
if hpk_memcg 16777216 ; then echo "$HPK_CG" > "$HP_OUT/cg" ; else echo "$HPK_WHY" > "$HP_OUT/nocg" ; fi
hp_at_exit "echo two >> $(q "$HP_OUT/undo")"
hp_at_exit "exit 3"
hp_at_exit "echo three >> $(q "$HP_OUT/undo") ; kill -TERM $$ ; sleep 0.2"
hp_at_exit "if hp_alive $HP_BG_PID ; then echo alive ; else echo dead ; fi >> $(q "$HP_OUT/undo")"
pass "the child ran"
case $1 in
  normal) done_testing ;;
  exit1) exit 1 ;;
  bail) bail_out "on purpose" ;;
  term) kill -TERM $$ ; sleep 10 ; echo "not reached" ;;
esac
EOF

# run_child ENDING EXPECTED-STATUS
run_child() {
  O=$T/$1
  mkdir "$O"
  env -u HP_KEEP HP_LIBS="$HP_TESTDIR" HP_OUT="$O" timeout -s KILL 60 sh "$T/child.t" "$1" > "$O/stdout" 2> "$O/stderr"
  is "$?" "$2" "$1: the child exits $2"
  if test -s "$O/other" ; then
    read -r other otherstart < "$O/other"
    hp_track "$other"
    ok "$1: a pid that is no longer the tracked process is not killed" hp__same_process "$other" "$otherstart"
    hp__same_process "$other" "$otherstart" && kill -KILL "$other"
  else
    fail "$1: the child reported its untracked process"
  fi
  ok "$1: the tracked process is gone" hp_dead "$(cat "$O/tracked")"
  is "$(tr '\n' ' ' < "$O/undo" 2>/dev/null)" "dead three two one " \
    "$1: the actions ran after the processes were gone, last first, each once, through a failing one and a signal"
  like "$(cat "$O/stderr")" 'cleanup failed: exit 3' "$1: the failing action is reported"
  if test -s "$O/mnt" ; then
    is "$(awk -v m="$(cat "$O/mnt")" '$2 == m' /proc/self/mounts)" "" "$1: the tmpfs is unmounted"
  else
    skip "$1: $(cat "$O/nomnt")"
  fi
  if test -s "$O/cg" ; then
    ok "$1: the memory cgroup is removed" test ! -e "$(cat "$O/cg")"
  else
    skip "$1: $(cat "$O/nocg")"
  fi
  t=$(cat "$O/t")
  like "$t" 'hp-test\.' "$1: the child had a temporary directory"
  ok "$1: it is gone" test ! -e "$t"
}

run_child normal 0
unlike "$(cat "$T/normal/stdout")" 'exited early' "normal: no early exit is reported"
run_child exit1 1
like "$(cat "$T/exit1/stdout")" 'exited early \(status 1\) after 1 tests' "exit1: the early exit is reported"
like "$(cat "$T/exit1/stdout")" '^1\.\.1$' "exit1: with the plan of what ran"
run_child bail 255
run_child term 143
unlike "$(cat "$T/term/stdout")" 'not reached' "term: the script ended at the signal"

# --- traps and variable prefixes -----------------------------------------------

traps=
for f in "$HP_TESTDIR"/lib*.sh ; do
  test "$f" = "$HP_TESTDIR/lib.sh" || traps="$traps$(grep -n '^[^#]*\<trap\>' "$f")"
done
is "$traps" "" "no lib*.sh but lib.sh sets a trap"

# prefixes FILE...: "PREFIX FUNCTION..." for every prefix of function-local
# variables (_abc_name and _abc stand for the prefix _abc_) used by two
# functions of FILEs; prefixes set outside any function (_tap_) are globals
cat > "$T/prefixes.awk" <<'EOF'
FNR == 1 { fn = "" }
/^[A-Za-z_][A-Za-z0-9_]*\(\) *\{/ { fn = FILENAME ":" substr($0, 1, index($0, "(") - 1) ; next }
/^}/ { fn = "" ; next }
/^[ \t]*#/ { next }
{
  line = " " $0
  while (match(line, /[^A-Za-z0-9_]_[a-z][a-z0-9]*[A-Za-z0-9_]*/)) {
    tok = substr(line, RSTART + 1, RLENGTH - 1)
    line = substr(line, RSTART + RLENGTH)
    match(tok, /^_[a-z][a-z0-9]*/) ; p = substr(tok, 1, RLENGTH) "_"
    if (fn == "") { global[p] = 1 ; continue }
    if (!((p, fn) in seen)) { seen[p, fn] = 1 ; users[p] = users[p] " " fn ; n[p]++ }
  }
}
END { for (p in n) if (n[p] > 1 && !(p in global)) print p users[p] }
EOF
prefixes() {
  awk -f "$T/prefixes.awk" "$@"
}

cd "$HP_TESTDIR" || bail_out "cannot cd to $HP_TESTDIR"
is "$(prefixes lib*.sh)" "" "no two functions of lib*.sh share a variable prefix"
shared=
for f in [0-9]*.t ; do
  shared="$shared$(prefixes lib*.sh "$f" | grep " $f:" | grep ' lib')"
done
is "$shared" "" "no function of a .t shares a variable prefix with the libraries"
# the check itself finds a collision
printf 'f1() {\n  _zz_a=1\n}\nf2() {\n  echo "$_zz_b"\n}\n' > "$T/collide.sh"
like "$(prefixes "$T/collide.sh")" '^_zz_ .*:f1 .*:f2$' "the check finds a prefix used by two functions"
cd "$T" || bail_out "cannot cd back to $T"

# --- the map of the tests: numbers, library prefixes, tests/README ------------

# ls and sort in byte order, whatever the locale
LC_ALL=C
export LC_ALL

# numbers DIR: "NN: FILE FILE..." for each number that two .t files of DIR
# share
numbers() {
  ls "$1" | awk '/^[0-9]+-.*\.t$/ { n = substr($0, 1, index($0, "-") - 1) ; f[n] = f[n] " " $0 ; c[n]++ }
    END { for (n in c) if (c[n] > 1) print n ":" f[n] }' | sort
}

# libprefixes DIR: "PREFIX FILE FILE..." for each prefix that two lib*.sh
# of DIR use: a function's prefix is its name up to the first _ after the
# leading letters (hp_until, hp__cleanup: hp; cmp_ok: cmp; ok: ok), a
# variable's the same in capitals, for the variables a library sets
# (HPK_WHY=...: HPK)
libprefixes() {
  for _lp_f in "$1"/lib*.sh ; do
    awk -v f="${_lp_f##*/}" '
      /^[ \t]*#/ { next }
      /^[A-Za-z][A-Za-z0-9_]*\(\) *\{/ { n = substr($0, 1, index($0, "(") - 1)
        match(n, /^[A-Za-z][A-Za-z0-9]*/) ; print "function " substr(n, 1, RLENGTH), f ; next }
      { line = " " $0
        while (match(line, /[ \t;!(][A-Z][A-Z0-9]*_[A-Z0-9_]*=/)) {
          v = substr(line, RSTART + 1, RLENGTH - 1) ; line = substr(line, RSTART + RLENGTH)
          print "variable " substr(v, 1, index(v, "_") - 1), f } }' "$_lp_f"
  done | sort -u | awk '{ k = $1 " " $2 ; if (k in f) { f[k] = f[k] " " $3 ; c[k]++ } else { f[k] = $3 ; c[k] = 1 } }
    END { for (k in c) if (c[k] > 1) print k " " f[k] }' | sort
}

# readme DIR: "unlisted FILE" for each .t of DIR that has no line of
# DIR/README of its own (starting with its name), "missing NAME" for each
# NN-name.t that README names and DIR does not have
readme() {
  ls "$1" | grep -E '^[0-9]+-.*\.t$' > "$T/map.files"
  sed -n 's/^ *\([0-9][0-9]*-[A-Za-z0-9_-]*\.t\)\( .*\)*$/\1/p' "$1/README" | sort -u > "$T/map.listed"
  grep -oE '(^|[^A-Za-z0-9_-])[0-9]+-[A-Za-z0-9_-]*\.t([^A-Za-z0-9_-]|$)' "$1/README" |
    grep -oE '[0-9]+-[A-Za-z0-9_-]*\.t' | sort -u > "$T/map.named"
  grep -vxF -f "$T/map.listed" "$T/map.files" | sed 's/^/unlisted /'
  grep -vxF -f "$T/map.files" "$T/map.named" | sed 's/^/missing /'
}

is "$(numbers "$HP_TESTDIR")" "" "no two tests share a number"
is "$(libprefixes "$HP_TESTDIR")" "" "no two lib*.sh share a function or variable prefix"
test -f "$HP_TESTDIR/README" || fail "tests/README exists"
is "$(readme "$HP_TESTDIR")" "" "tests/README lists every test, and every test it names exists"

# the checks find what they are there to find, in a made-up tests/
mkdir "$T/map"
for f in 10-a.t 11-b.t 11-c.t 12-d.t lib.sh lib-x.sh lib-y.sh ; do : > "$T/map/$f" ; done
is "$(numbers "$T/map")" "11: 11-b.t 11-c.t" "the check finds a number used twice"
printf 'hp_one() {\n  :\n}\nok() {\n  :\n}\nHP_A=1\n' > "$T/map/lib.sh"
printf '# hq_not_a_function() {\nhq_two() {\n  HPQ_B=1 ; HP_C=2\n}\nhq__three() {\n  if ! HPK_D=$(true) ; then :; fi\n}\n' > "$T/map/lib-x.sh"
printf 'hq_four() {\n  :\n}\nok() {\n  :\n}\n' > "$T/map/lib-y.sh"
is "$(libprefixes "$T/map")" "function hq lib-x.sh lib-y.sh
function ok lib-y.sh lib.sh
variable HP lib-x.sh lib.sh" "the check finds prefixes and names used by two libraries"
printf '  10-a.t       one\n  11-b.t\n  12-d.t  see 13-gone.t\nnot a line of 11-c.t, nor 14-gone.tt\n  15-ghost.t    x\n' > "$T/map/README"
is "$(readme "$T/map")" "unlisted 11-c.t
missing 13-gone.t
missing 15-ghost.t" "the check finds a test README does not list, and tests it names that do not exist"

done_testing
