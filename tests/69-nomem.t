#!/bin/sh
# Out of memory after start-up, the daemon goes on: a request whose needs
# cannot be allocated is refused with answer 111 and one log line
# (event=nomem), a reload that cannot be had changes nothing, and once
# memory is back every slot is ready again and claims are granted, by the
# same process, with no slot lost or handed out twice.
# The daemon's allocations are made to fail by a shim (hp-nomem.so, in
# LD_PRELOAD) while a file says so, in the daemon only: its helpers and
# the clients allocate as usual. First every allocation fails: claims,
# status and a reload are refused, a lease ends and its slot is remade
# once it can be. Then one allocation fails, the first, the second, ...
# of a claim, a ballast claim, a status and a reload that adds a pool and
# a slot: each is granted or refused 111, never denied or left
# unanswered, and a reload is applied whole or not at all; and so are
# the claims of a uid whose rule's regex is ^(m|b)$, which glibc's regcomp
# frees twice when one of its allocations fails: holdingpend compiles it
# once. Then one allocation in three fails under a burst. Last, with an
# fd holder (-f): claims that hold, each with one of its first fifteen
# allocations failing, are granted or refused 111, the fd holder keeps
# exactly the granted leases and the other slots as ready, and a SIGKILL
# restart takes back those leases, found by id, and those ready slots.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"
. "$(dirname "$0")/lib-policy.sh"

shim=$(hp_preload hp-nomem) || bail_out "cannot build the hp-nomem.so shim"
probe=$(hp_probe hp-probe-client) || bail_out "cannot build hp-probe-client"
F=$T/nomem
P=$T/pools
R=$T/rules
hpp_rule "$R" uid/0 HOLDINGPEN_CLAIM_REGEX=.* HOLDINGPEN_STATUS=1 HOLDINGPEN_ADMIN=1
hpp_rule "$R" uid/65534 'HOLDINGPEN_CLAIM_REGEX=^(m|b)$'
hp_pool m 4M 2
hp_pool b 4M 1 kind=ballast-mem

# the supervision tree gets the shim; this shell and the clients do not
LD_PRELOAD=$shim HP_NOMEM_PROG=holdingpend HP_NOMEM_FILE=$F
export LD_PRELOAD HP_NOMEM_PROG HP_NOMEM_FILE
if test -n "$HP_SANITIZED" ; then
  # the shim comes before the sanitizers' runtime and hands it what it does not fail
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
  export ASAN_OPTIONS
fi
hp_start_supervised -i "$R" -p "$P"
unset LD_PRELOAD HP_NOMEM_PROG HP_NOMEM_FILE
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)
ok "the shim is in the daemon" grep -q 'hp-nomem\.so' "/proc/$pid/maps"

# starve [N]: the daemon's allocations fail, all of them or as the shim reads N; feed: no more
starve() {
  printf '%s\n' "${1:-0}" > "$F.tmp" && mv -f "$F.tmp" "$F"
}
feed() {
  rm -f "$F"
}
# answer ARGS...: the first line of the probe's output, "answer=CODE ..."
answer() {
  "$probe" -t 8000 "$HP_SOCKET" "$@" | sed -n 's/^\(answer=[^ ]*\).*/\1/p' | head -n 1
}
# settled: every slot ready, as many helpers as slots
settled() {
  hp_field_is m ready 2 && hp_field_is b ready 1 && test "$(hp_helper_count "$pid")" -eq 3
}
nomem() {
  hp_log_kv_count event=nomem
}

ok "all slots ready" hp_until 10000 settled
fds0=$(hp_fd_count "$pid")
is "$(answer claim m)" answer=0 "before: a claim is granted"

# --- every allocation fails ---
hp_hold h m
ok "a lease is held" hp_until 5000 hp_holds h
n0=$(nomem)
starve
r=
for i in 1 2 3 ; do r="$r $(answer claim m nowait)" ; done
is "$r" " answer=111 answer=111 answer=111" "starved: three claims on m are refused with 111"
is "$(answer claim b)" answer=111 "a claim on the ballast pool is refused with 111"
is "$(answer status)" answer=111 "a status request is refused with 111"
timeout -s KILL 20 "$HP_BUILD/holdingpen-claim" -s "$HP_SOCKET" -t 5000 -n m true > /dev/null 2>&1
is "$?" 111 "holdingpen-claim -n m exits 111"
hp_pool x 1M 1
hpp_revoke -r > /dev/null 2>&1
is "$?" 111 "a reload that adds a pool: holdingpen-revoke -r exits 111"
n=$(hp_log_kv_count event=reload result=refused)
s6-svc -h "$HP_SVC"
ok "a reload by SIGHUP is refused" hp_until 5000 eval 'test "$(hp_log_kv_count event=reload result=refused)" -gt "$n"'
kill "$HOLD_h"
ok "the lease ends while starved (event=release)" hp_until 5000 hp_log_kv_has event=release pool=m
sleep 1
cmp_ok "$(($(nomem) - n0))" -ge 6 "the refusals are logged (event=nomem)"
ok "log: event=nomem request=claim pool=m" hp_log_kv_has event=nomem request=claim pool=m
ok "log: event=nomem request=status" hp_log_kv_has event=nomem request=status
ok "log: event=nomem request=reload" hp_log_kv_has event=nomem request=reload
is "$(hp_daemon_pid)" "$pid" "the daemon is the same process"
feed
is "$(hp_status | grep -c '^pool=x ')" 0 "fed again: the refused reloads changed nothing (no pool x)"
ok "every slot is ready again, the ended lease's too" hp_until 20000 settled
is "$(answer claim m)" answer=0 "a claim on m is granted"
is "$(answer claim b)" answer=0 "a claim on b is granted"
ok "a reload now adds pool x" hpp_revoke -r
ok "x gets its slot" hp_until 10000 hp_field_is x ready 1

# --- one allocation fails: the first, the second, ... ---
# A reload toggles pool x and m's count together: applied whole, or not at all.
kmax=${HP_NOMEM_KMAX:-80}
bad=
xin=1 ; mcount=2
for k in $(seq 1 "$kmax") ; do
  if test $((k % 2)) -eq 1 ; then rm -rf "$P/x" ; want_x=0 ; want_m=3 ; else hp_pool x 1M 1 ; want_x=1 ; want_m=2 ; fi
  echo "$want_m" > "$P/m/count"
  starve "+$k" ; a=$(answer claim m) ; feed
  case $a in answer=0|answer=111) ;; *) bad="$bad claim-m:$k:$a" ;; esac
  starve "+$k" ; a=$(answer claim b) ; feed
  case $a in answer=0|answer=111) ;; *) bad="$bad claim-b:$k:$a" ;; esac
  starve "+$k" ; a=$(answer status) ; feed
  case $a in answer=0|answer=111) ;; *) bad="$bad status:$k:$a" ;; esac
  starve "+$k" ; hpp_revoke -r > /dev/null 2>&1 ; rc=$? ; feed
  case $rc in
    0) xin=$want_x ; mcount=$want_m ;;
    111) ;;
    *) bad="$bad reload:$k:rc=$rc" ;;
  esac
  st=$(hp_status)
  x=$(printf '%s\n' "$st" | grep -c '^pool=x .* removed=0')
  c=$(printf '%s\n' "$st" | sed -n 's/^pool=m .* count=\([0-9]*\) .*/\1/p')
  test "$x $c" = "$xin $mcount" || bad="$bad config:$k:x=$x,m=$c,want:$xin,$mcount"
  test "$(hp_daemon_pid)" = "$pid" || { bad="$bad died:$k" ; break ; }
done
is "$bad" "" "claims, status and reloads with the Nth allocation failing, N = 1 to $kmax: granted or 111, reloads whole or not at all"
is "$(hp_daemon_pid)" "$pid" "the daemon is the same process"

# nobody's claims, under a rule whose regex glibc cannot compile safely short of memory
if ( hpp_open_tmp ) > /dev/null 2>&1 ; then
  hpp_open_tmp
  nobody() {
    s6-applyuidgid -u 65534 -g 65534 -G "" "$probe" -t 8000 "$HP_SOCKET" claim m | sed -n 's/^\(answer=[^ ]*\).*/\1/p' | head -n 1
  }
  is "$(nobody)" answer=0 "nobody's claim on m is granted (rule ^(m|b)\$)"
  bad=
  for k in $(seq 1 "$kmax") ; do
    starve "+$k" ; a=$(nobody) ; feed
    case $a in answer=0|answer=111) ;; *) bad="$bad $k:$a" ;; esac
    test "$(hp_daemon_pid)" = "$pid" || { bad="$bad died:$k" ; break ; }
  done
  is "$bad" "" "nobody's claims with the Nth allocation failing, N = 1 to $kmax: granted or 111"
  is "$(hp_daemon_pid)" "$pid" "the daemon is the same process"
  ok "every slot of m ready" hp_until 20000 eval 'test "$(hp_field m ready)" = "$(hp_field m count)"'
else
  skip "$T cannot be made reachable by nobody" 4
fi
note "event=nomem lines so far: $(nomem)"

# --- one allocation in three fails, under a burst ---
rm -rf "$P/x"
echo 2 > "$P/m/count"
n0=$(nomem)
starve 3
pids=
for r in 1 2 3 ; do
  for i in 1 2 3 4 ; do "$probe" -t 8000 "$HP_SOCKET" claim m 200 > "$T/burst.$r.$i" & pids="$pids $!" ; done
  "$probe" -t 8000 "$HP_SOCKET" claim b 100 > "$T/burst.$r.b" & pids="$pids $!"
  "$probe" -t 8000 "$HP_SOCKET" status > "$T/burst.$r.s" & pids="$pids $!"
  s6-svc -h "$HP_SVC"
  # shellcheck disable=SC2086
  wait $pids
  pids=
done
feed
others=$(cat "$T"/burst.* | grep '^answer=' | grep -v '^answer=0 \|^answer=111 ' | wc -l | tr -d ' ')
is "$others" 0 "burst: every claim and status is granted or refused with 111"
cmp_ok "$(($(nomem) - n0))" -gt 0 "burst: some were refused for want of memory (event=nomem)"
is "$(hp_daemon_pid)" "$pid" "the daemon is the same process"

# --- all back ---
ok "a reload with memory: m has 2 slots, x is gone" hpp_revoke -r
ok "every slot ready again, one helper each" hp_until 20000 settled
ok "pool x is gone" hp_until 5000 eval 'test "$(hp_status | grep -c "^pool=x ")" -eq 0'
is "$(answer claim m)" answer=0 "a claim on m is granted"
is "$(answer claim b)" answer=0 "a claim on b is granted"
ok "the daemon's fds are back to what they were ($fds0)" hp_until 10000 eval 'test "$(hp_fd_count "$pid")" -eq "$fds0"'
ok "no slot was granted twice (log)" hp_log_no_double_grant
is "$(hp_daemon_pid)" "$pid" "the daemon is the same process, from start to end"

# --- kept (-f): what is refused leaves the fd holder's records right ---
hp_stop
rm -rf "$P"
hp_pool k 4K 40
hpf_fdholder
LD_PRELOAD=$shim HP_NOMEM_PROG=holdingpend HP_NOMEM_FILE=$F
export LD_PRELOAD HP_NOMEM_PROG HP_NOMEM_FILE
hp_start_supervised -i "$R" -p "$P" -f "$HPF_FDHOLDER" -c 200
unset LD_PRELOAD HP_NOMEM_PROG HP_NOMEM_FILE
hpf_fdholder_up || bail_out "the fd holder did not come up"
hp_wait_up 30000 || bail_out "the daemon with -f did not become ready"
ok "-f: every slot of k is ready" hp_until 30000 hp_field_is k ready 40
pid=$(hp_daemon_pid)
bad= ; granted=0
for i in $(seq 1 30) ; do
  starve "+$(( (i % 15) + 1 ))"
  "$probe" -t 8000 "$HP_SOCKET" claim k nowait 600000 > "$T/k.$i" &
  hp_track $!
  hp_until 5000 grep -q '^answer=' "$T/k.$i"
  feed
  a=$(sed -n 's/^\(answer=[^ ]*\).*/\1/p' "$T/k.$i" | head -n 1)
  case $a in
    answer=0) granted=$((granted + 1)) ;;
    answer=111) ;;
    *) bad="$bad $i:$a" ;;
  esac
done
is "$bad" "" "-f: every claim that holds is granted or refused with 111 ($granted granted)"
cmp_ok "$granted" -lt 30 "-f: some were refused"
cmp_ok "$granted" -gt 0 "-f: some were granted"
is "$(hp_field k held)" "$granted" "-f: status: held = the claims granted"
kept() {
  test "$(s6-fdholder-list "$HPF_FDHOLDER" | grep -c '^holdingpen/held/')" -eq "$granted" \
   && test "$(s6-fdholder-list "$HPF_FDHOLDER" | grep -c '^holdingpen/slot/')" -eq $((40 - granted))
}
ok "-f: the fd holder keeps the $granted leases' resources and the other slots as ready" hp_until 20000 kept
before=$(hpf_leases)
kill -KILL "$pid"
hpf_wait_restart "$pid"
is "$?" 0 "-f: after SIGKILL a new holdingpend is up"
is "$(hpf_leases)" "$before" "-f: the same leases are held"
ok "-f: every lease and ready slot was taken back" hp_log_kv_has event=restore leases="$granted" slots=40 dropped=0
fails=0
for l in $(printf '%s\n' "$before" | sed -n 's/^lease=\([0-9]*\) .*/\1/p') ; do
  hpp_revoke "$l" 2> "$T/rerr" || { fails=$((fails + 1)) ; diag "revoke $l: $(cat "$T/rerr")" ; }
done
is "$fails" 0 "-f: every lease taken back is found by its id"
ok "-f: no slot was granted twice (log)" hp_log_no_double_grant
done_testing
