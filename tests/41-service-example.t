#!/bin/sh
# The example service directory examples/s6/holdingpen, copied into a scan
# directory under a real s6-svscan: it comes up, becomes ready (s6-svwait -U)
# with every slot reserved, logs through its s6-log into log/main, serves the
# execline launchers (matlab: a ballast-mem claim; octave: a memfd on fd 3),
# and comes back ready after s6-svc -r with its logger untouched.
#
# The copy is the example as shipped except for what a test cannot share with
# a real installation; each change is made, and explained, below, and the test
# checks that nothing else differs.
. "$(dirname "$0")/lib.sh"

command -v s6-log > /dev/null 2>&1 || skip_all "s6-log is not installed"
test -x /bin/execlineb || skip_all "/bin/execlineb (the examples' interpreter) is not installed"

EX="$HP_TESTDIR/../examples"
test -d "$EX/s6/holdingpen" || skip_all "no examples/s6/holdingpen next to the tests"

# ok_line TEXT ERE DESC: one whole line of TEXT matches ERE.
ok_line() {
  if printf '%s\n' "$1" | grep -Eq -- "^($2)\$" ; then pass "$3" ; else
    fail "$3" ; diag "no line of:" "$1" "is: $2" ; return 1
  fi
}

HP_SCANDIR="$T/scan"
HP_SVC="$HP_SCANDIR/holdingpen"
HP_SOCKET="$T/sock"
HOLDINGPEN_SOCKET=$HP_SOCKET
export HOLDINGPEN_SOCKET
mkdir -p "$HP_SCANDIR" "$T/bin"
cp -pR "$EX/s6/holdingpen" "$HP_SVC"

# Adaptation 1, the run line: the socket is $T/sock instead of
# /run/holdingpen.socket (the test must not take over a real broker's socket),
# and -H names the build tree's helper, which is not installed in libexecdir.
# holdingpen-daemon and holdingpend themselves are found through the PATH that
# s6-svscan is started with below, as installed programs would be.
# The fd holder's socket is $T/fdh, in both services.
sed -e "/^holdingpen-daemon /s| /run/holdingpen.socket\$| $HP_SOCKET|" \
    -e "/^holdingpen-daemon /s| -f /run/holdingpen-fdholder.socket | -f $T/fdh |" \
    -e "/^holdingpen-daemon /s|^holdingpen-daemon -1 |holdingpen-daemon -1 -H $HP_BUILD/holdingpen-helper |" \
    < "$EX/s6/holdingpen/run" > "$HP_SVC/run"
cp -pR "$EX/s6/holdingpen-fdholder" "$HP_SCANDIR/holdingpen-fdholder"
sed -e "s| /run/holdingpen-fdholder.socket\$| $T/fdh|" < "$EX/s6/holdingpen-fdholder/run" > "$HP_SCANDIR/holdingpen-fdholder/run"
is "$(diff -r "$EX/s6/holdingpen-fdholder" "$HP_SCANDIR/holdingpen-fdholder" | grep -c '^>')" 1 "the fd holder's copy differs from the example in its socket only"
# Adaptation 2, the pools: 16 MiB slots instead of 1 GiB and 2 GiB, to keep
# the test light; kinds and counts are the example's.
echo 16M > "$HP_SVC/pools/octave-mem/size"
echo 16M > "$HP_SVC/pools/matlab-mem/size"
# Adaptation 3, the rules: the example gives every right to root (uid/0).
# Run as another user, the test gives that user root's rule, since it needs
# the listing right (HOLDINGPEN_STATUS) to check the pools.
uid=$(id -u)
if test "$uid" -ne 0 ; then
  mv "$HP_SVC/rules/uid/0" "$HP_SVC/rules/uid/$uid"
fi

# Nothing else differs from the example.
changes=$(diff -r "$EX/s6/holdingpen" "$HP_SVC" | grep -c '^>')
is "$changes" 3 "the copy differs from the example in the run line and the two pool sizes only"
like "$(tail -n 1 "$HP_SVC/run")" "^holdingpen-daemon -1 -H .*/holdingpen-helper -r 30000 -f $T/fdh -i rules -p pools $HP_SOCKET\$" "the adapted run line"
is "$(cat "$HP_SVC/notification-fd")" 3 "notification-fd is 3, the fd the run script moves onto stdout"

PATH="$HP_BUILD:$PATH" s6-svscan "$HP_SCANDIR" < /dev/null > "$T/svscan.log" 2>&1 &
HP_SVSCAN_PID=$!

ok "s6-svscan starts the service and its logger" hp_until 5000 hp_supervised "$HP_SVC"
ok "s6-svwait -U: the service becomes ready" s6-svwait -U -t 10000 "$HP_SVC"
d1=$(hp_daemon_pid)
like "$(hp_cmdline "$d1")" "holdingpend" "the service's pid is holdingpend (holdingpen-daemon chainloads into it)"

# Readiness means every slot of every pool is reserved: no polling here.
is "$(hp_field octave-mem ready)" 2 "at readiness: octave-mem has its 2 slots ready"
is "$(hp_field matlab-mem ready)" 1 "at readiness: matlab-mem has its slot ready"
is "$(hp_field octave-mem kind) $(hp_field octave-mem size)" "memfd 16777216" "octave-mem: memfd, 16 MiB"
is "$(hp_field matlab-mem kind) $(hp_field matlab-mem size)" "ballast-mem 16777216" "matlab-mem: ballast-mem, 16 MiB"
is "$(hp_helper_count "$d1")" 3 "one helper per slot"

# The log goes through s6-log (log/run) into log/main/current.
cur="$HP_SVC/log/main/current"
log_count() { grep -cE -- " holdingpend: info: event=$1( |\$)" "$cur" 2>/dev/null || true ; }
log_has() { test "$(log_count "$1")" -ge "${2:-1}" ; }
ok "log/main/current has an event=start line" hp_until 5000 log_has start
ok "log/main/current has an event=ready line" hp_until 5000 log_has ready
like "$(grep -m 1 ' event=ready' "$cur")" '^@[0-9a-f]{24} holdingpend: info: event=ready' "the lines are stamped by s6-log (TAI64N, directive t)"
is "$(grep -c 'event=' "$T/svscan.log")" 0 "no log line went to s6-svscan's output instead"
logpid=$(s6-svstat -p "$HP_SVC/log")
cmp_ok "$logpid" -gt 0 "the logger is up"

# --- the matlab launcher, with a stand-in for MATLAB ---
# The stand-in prints what the launcher gives it, and what the broker says
# about matlab-mem while it runs.
cat > "$T/bin/matlab" <<EOF
#!/bin/sh
echo "args=\$*"
echo "kind=\$HOLDINGPEN_KIND pool=\$HOLDINGPEN_POOL size=\$HOLDINGPEN_SIZE"
if test -n "\${HOLDINGPEN_FD+set}" ; then echo "fd=set" ; else echo "fd=unset" ; fi
echo "lease=\$HOLDINGPEN_LEASE"
"$HP_BUILD/holdingpen-status" -k matlab-mem | sed -n 's/^pool=matlab-mem .*\\( held=[0-9]*\\).*/while-running:\\1/p'
EOF
chmod 755 "$T/bin/matlab"
# The launcher's only adaptation: the stand-in in place of /usr/local/bin/matlab.
sed "/^holdingpen-claim /s| /usr/local/bin/matlab | $T/bin/matlab |" < "$EX/execline/matlab" > "$T/bin/matlab-held"
chmod 755 "$T/bin/matlab-held"
is "$(diff "$EX/execline/matlab" "$T/bin/matlab-held" | grep -c '^>')" 1 "the matlab launcher copy differs in one line"

out=$(PATH="$HP_BUILD:$PATH" timeout -s KILL 30 "$T/bin/matlab-held" -nodesktop -r 'x = 1' 2> "$T/matlab.err")
is "$?" 0 "the matlab launcher runs the stand-in and exits 0"
ok_line "$out" "args=-nodesktop -r x = 1" "the launcher passes its arguments on"
ok_line "$out" "kind=ballast-mem pool=matlab-mem size=16777216" "the stand-in runs with HOLDINGPEN_KIND=ballast-mem HOLDINGPEN_POOL=matlab-mem"
ok_line "$out" "fd=unset" "HOLDINGPEN_FD is unset for a ballast kind"
ok_line "$out" "while-running: held=1" "the slot is held while the program runs"
is "$(cat "$T/matlab.err")" "" "nothing on stderr"
lease=$(printf '%s\n' "$out" | sed -n 's/^lease=//p')
ok "log: the grant of that lease" hp_until 5000 grep -q " event=grant pool=matlab-mem .*lease=$lease " "$cur"
ok "when the program exits the ballast is reserved again" hp_until 5000 hp_field_is matlab-mem ready 1

# --- the octave launcher, with a stand-in for Octave ---
# The stand-in writes through HOLDINGPEN_PATH without truncating, reads it
# back, then becomes a probe that maps HOLDINGPEN_FD and writes every byte.
cat > "$T/bin/octave" <<EOF
#!/bin/sh
echo "kind=\$HOLDINGPEN_KIND pool=\$HOLDINGPEN_POOL fd=\$HOLDINGPEN_FD path=\$HOLDINGPEN_PATH"
printf 'holdingpen' | dd of="\$HOLDINGPEN_PATH" conv=notrunc status=none
echo "readback=\$(head -c 10 "\$HOLDINGPEN_PATH")"
exec "$(hp_probe hp-probe-write)"
EOF
chmod 755 "$T/bin/octave"
# The launcher's only adaptation: the stand-in in place of /usr/bin/octave.
sed "/^\/usr\/bin\/octave /s|^/usr/bin/octave |$T/bin/octave |" < "$EX/execline/octave" > "$T/bin/octave-held"
chmod 755 "$T/bin/octave-held"
is "$(diff "$EX/execline/octave" "$T/bin/octave-held" | grep -c '^>')" 1 "the octave launcher copy differs in one line"
out=$(PATH="$HP_BUILD:$PATH" timeout -s KILL 30 "$T/bin/octave-held" 2> "$T/octave.err")
is "$?" 0 "the octave launcher runs the stand-in and exits 0"
ok_line "$out" "kind=memfd pool=octave-mem fd=3 path=/proc/self/fd/3" "a memfd slot of octave-mem on fd 3, HOLDINGPEN_PATH=/proc/self/fd/3"
ok_line "$out" "readback=holdingpen" "writing through HOLDINGPEN_PATH without truncation works"
ok_line "$out" "written=16777216" "the probe maps HOLDINGPEN_FD and writes all 16 MiB"
is "$(cat "$T/octave.err")" "" "nothing on stderr"
ok "after the program, octave-mem has its 2 slots ready again" hp_until 5000 hp_field_is octave-mem ready 2

# --- the shipped rules: the console group (gid 1000) may claim, not list ---
if test "$uid" -eq 0 && chmod 755 "$T" && s6-applyuidgid -u 65534 -g 1000 -G "" test -x "$HP_BUILD/holdingpen-claim" ; then
  as() { _as_u=$1 _as_g=$2 ; shift 2 ; timeout -s KILL 30 s6-applyuidgid -u "$_as_u" -g "$_as_g" -G "" "$@" ; }
  as 65534 1000 "$HP_BUILD/holdingpen-claim" -n octave-mem true 2> /dev/null
  is "$?" 0 "rules/gid/1000: a process of gid 1000 may claim from octave-mem"
  as 65534 1000 "$HP_BUILD/holdingpen-claim" -n matlab-mem true 2> /dev/null
  is "$?" 0 "rules/gid/1000: and from matlab-mem"
  as 65534 1000 "$HP_BUILD/holdingpen-status" > /dev/null 2>&1
  is "$?" 1 "rules/gid/1000: but may not list (no HOLDINGPEN_STATUS)"
  as 65534 1000 "$HP_BUILD/holdingpen-revoke" -r > /dev/null 2>&1
  is "$?" 1 "rules/gid/1000: nor administer (no HOLDINGPEN_ADMIN)"
  as 65534 65534 "$HP_BUILD/holdingpen-claim" -n octave-mem true 2> /dev/null
  is "$?" 1 "another group (no rule) is denied"
  ok "log: event=deny for it" hp_until 5000 grep -q " event=deny pool=octave-mem uid=65534 gid=65534 .*reason=rules" "$cur"
  all_ready() { test "$(hp_field octave-mem ready) $(hp_field matlab-mem ready)" = "2 1" ; }
  ok "the slots are all ready again" hp_until 5000 all_ready
else
  skip "needs root, and the build tree and \$T reachable by uid 65534" 7
fi

# --- s6-svc -r: the broker restarts, takes back what the fd holder kept, serves again ---
helpers1=$(hp_helper_pids "$d1")
s6-svc -r "$HP_SVC"
new_and_ready() {
  _p=$(s6-svstat -p "$HP_SVC" 2>/dev/null)
  test -n "$_p" && test "$_p" -gt 0 && test "$_p" != "$d1" || return 1
  test "$(s6-svstat -o ready "$HP_SVC" 2>/dev/null)" = true
}
ok "after s6-svc -r, a new broker is up and ready" hp_until 15000 new_and_ready
d2=$(hp_daemon_pid)
isnt "$d2" "$d1" "it has a new pid"
ok "the old broker is gone" hp_until 5000 hp_dead "$d1"
# shellcheck disable=SC2086
ok "the old helpers are gone" hp_until 5000 hp_all_dead $helpers1
is "$(hp_field octave-mem ready) $(hp_field matlab-mem ready)" "2 1" "every slot is reserved again at the new readiness"
is "$(hp_helper_count "$d2")" 3 "one helper per slot, no more"
ok "log/main/current has a second event=start line" hp_until 5000 log_has start 2
ok "and the new broker took back the 3 reservations the fd holder kept" hp_until 5000 eval 'grep -q " event=restore leases=0 slots=3 " "$cur"'
ok "and a second event=ready line" hp_until 5000 log_has ready 2
is "$(s6-svstat -p "$HP_SVC/log")" "$logpid" "the logger was not restarted: the log pipe outlived the broker"

out=$(hp_claim -n octave-mem sh -c 'echo "pool=$HOLDINGPEN_POOL fd=$HOLDINGPEN_FD"' 2>&1)
is "$?" 0 "a client started after the restart gets a slot at once (-n)"
like "$out" '^pool=octave-mem fd=[0-9]+$' "with its descriptor"
out=$(PATH="$HP_BUILD:$PATH" timeout -s KILL 30 "$T/bin/matlab-held" 2>&1)
ok_line "$out" "while-running: held=1" "the matlab launcher gets its slot too"

# --- s6-svc -h: the pools are reread from the service directory ---
mkdir "$HP_SVC/pools/extra"
echo memfd > "$HP_SVC/pools/extra/kind"
echo 4M > "$HP_SVC/pools/extra/size"
s6-svc -h "$HP_SVC"
ok "after s6-svc -h, a pool added to pools/ is served" hp_until 5000 hp_field_is extra ready 1
ok "log: event=reload" hp_until 5000 log_has reload
mkdir "$HP_SVC/pools/bad"
echo nonsense > "$HP_SVC/pools/bad/kind"
echo 4M > "$HP_SVC/pools/bad/size"
s6-svc -h "$HP_SVC"
ok "a pool directory with a mistake: one log line naming the pool and the file" hp_until 5000 grep -q "holdingpend: .*pool bad: file kind" "$cur"
is "$(hp_field extra ready) $(hp_field octave-mem ready) $(hp_field bad ready 2> /dev/null)" "1 2 " "and the broker keeps the pools it had"
is "$(hp_daemon_pid)" "$d2" "without restarting"

done_testing
