#!/bin/sh
# The execline scripts of examples/execline parse and do what their comments
# say.
#   1. The scripts as shipped, with a stand-in holdingpen-claim first in the
#      PATH that records its arguments and then exits with a chosen code or
#      grants (runs the rest of its command line): each launcher calls
#      holdingpen-claim as intended, and claim-or-fallback turns each outcome
#      into the right action and exit code.
#   2. claim-or-fallback against a real supervised broker, with its 5 s wait
#      shortened: a free slot, a full pool (fallback), and the other refusals
#      passed through (denied, unknown pool, too soon, per-user limit).
. "$(dirname "$0")/lib.sh"

test -x /bin/execlineb || skip_all "/bin/execlineb (the examples' interpreter) is not installed"
EX="$HP_TESTDIR/../examples/execline"
test -d "$EX" || skip_all "no examples/execline next to the tests"

# --- 1. the scripts as shipped, with a stand-in holdingpen-claim ---

mkdir -p "$T/stub" "$T/bin"
# STUB=exit:N: record the arguments, exit N. STUB=grant: record them, drop
# the options and the pool, export a fake lease, and run the rest, as the
# real one does once a claim is granted.
cat > "$T/stub/holdingpen-claim" <<'EOF'
#!/bin/sh
printf '%s\n' "$*" >> "$STUBLOG"
case $STUB in
  exit:*) exit "${STUB#exit:}" ;;
esac
while : ; do
  case $1 in
    -n) shift ;;
    -t|-d|-s) shift 2 ;;
    *) break ;;
  esac
done
HOLDINGPEN_LEASE=stub HOLDINGPEN_POOL=$1
export HOLDINGPEN_LEASE HOLDINGPEN_POOL
shift
exec "$@"
EOF
chmod 755 "$T/stub/holdingpen-claim"
STUBLOG="$T/stub.log"
export STUBLOG

# The program the scripts start: records each run (with the lease it holds,
# or "none") and exits with its first argument.
cat > "$T/bin/prog" <<EOF
#!/bin/sh
echo "ran lease=\${HOLDINGPEN_LEASE:-none} pool=\${HOLDINGPEN_POOL:-none}" >> "$T/runs"
"$HP_BUILD/holdingpen-status" -k 2> /dev/null | sed -n 's/^pool=\\([^ ]*\\) .* held=\\([0-9]*\\) .*/held:\\1=\\2/p' >> "$T/runs"
exit "\$1"
EOF
chmod 755 "$T/bin/prog"

# stub_run STUB SCRIPT ARGS...: runs a shipped script with the stand-in;
# sets rc, stub (its arguments) and runs (what prog recorded).
stub_run() {
  : > "$STUBLOG" ; : > "$T/runs"
  _sr_stub=$1 _sr_script=$2 ; shift 2
  STUB=$_sr_stub PATH="$T/stub:$PATH" timeout -s KILL 30 "$EX/$_sr_script" "$@" > "$T/out" 2> "$T/err"
  rc=$?
  stub=$(cat "$STUBLOG")
  runs=$(grep '^ran ' "$T/runs")
}

: > "$STUBLOG"
STUB=exit:0 PATH="$T/stub:$PATH" timeout -s KILL 30 "$EX/matlab" -nodesktop -r 'a b' > /dev/null 2>&1
is "$?" 0 "matlab parses and runs"
is "$(cat "$STUBLOG")" "matlab-mem /usr/local/bin/matlab -nodesktop -r a b" "matlab: holdingpen-claim matlab-mem /usr/local/bin/matlab ARGS..."

: > "$STUBLOG"
STUB=exit:0 PATH="$T/stub:$PATH" timeout -s KILL 30 "$EX/octave" --no-gui x > /dev/null 2>&1
is "$?" 0 "octave parses and runs"
is "$(cat "$STUBLOG")" "-d 3 octave-mem export HOLDINGPEN_PATH /proc/self/fd/3 /usr/bin/octave --no-gui x" "octave: holdingpen-claim -d 3 octave-mem, then export HOLDINGPEN_PATH, then /usr/bin/octave ARGS..."

stub_run grant claim-or-fallback mypool "$T/bin/prog" 7
like "$stub" "^-t 5000 mypool " "claim-or-fallback: holdingpen-claim -t 5000 POOL ..."
is "$rc" 7 "granted: exits with prog's code"
is "$runs" "ran lease=stub pool=mypool" "granted: prog ran once, holding the lease"

stub_run grant claim-or-fallback mypool "$T/bin/prog" 99
is "$rc" 99 "granted, and prog exits 99: the script exits 99"
is "$runs" "ran lease=stub pool=mypool" "and prog ran once only: its 99 is not taken for holdingpen-claim's"

stub_run exit:99 claim-or-fallback mypool "$T/bin/prog" 6
is "$rc" 6 "no slot in time (99): exits with prog's code"
is "$runs" "ran lease=none pool=none" "no slot in time: prog ran once, without a lease"

for code in 1 2 3 4 100 111 ; do
  stub_run "exit:$code" claim-or-fallback mypool "$T/bin/prog" 0
  is "$rc:$runs" "$code:" "refused with $code: the script exits $code, prog does not run"
done

# --- 2. claim-or-fallback against a real broker ---

# The only adaptation: a wait of 300 ms instead of 5000, to keep the test
# short.
sed '/^ *holdingpen-claim -t 5000 \$1$/s/-t 5000/-t 300/' < "$EX/claim-or-fallback" > "$T/bin/claim-or-fallback"
chmod 755 "$T/bin/claim-or-fallback"
is "$(diff "$EX/claim-or-fallback" "$T/bin/claim-or-fallback" | grep -c '^>')" 1 "the copy differs in one line"
ok "(and that line has -t 300)" grep -q '^ *holdingpen-claim -t 300 \$1$' "$T/bin/claim-or-fallback"

hp_pool one 4M 1
hp_pool lim 4M 2 maxperuid=1
hp_pool soon 4M 1 ifelapsed=60
hp_pool secret 4M 1
me=$(id -u)
mkdir -p "$T/rules/uid/$me/env"
touch "$T/rules/uid/$me/allow"
# The rules come before the pools: a name they do not allow is denied (1)
# whether the pool exists or not, so nosuchpool is allowed here, to be
# refused as unknown (2).
echo '(one|lim|soon|nosuchpool)' > "$T/rules/uid/$me/env/HOLDINGPEN_CLAIM_REGEX"
echo 1 > "$T/rules/uid/$me/env/HOLDINGPEN_STATUS"
hp_start_supervised -p "$T/pools" -i "$T/rules"
hp_wait_up || bail_out "the daemon did not become ready"

# cof POOL CODE: the adapted script with prog; sets rc, runs, err, ms.
cof() {
  : > "$T/runs"
  _c_t0=$(hp_now_ms)
  PATH="$HP_BUILD:$PATH" timeout -s KILL 30 "$T/bin/claim-or-fallback" "$1" "$T/bin/prog" "$2" > "$T/out" 2> "$T/err"
  rc=$?
  ms=$(($(hp_now_ms) - _c_t0))
  runs=$(cat "$T/runs")
  err=$(cat "$T/err")
}

cof one 0
is "$rc" 0 "free slot: exits 0 with prog"
like "$runs" '^ran lease=[0-9]+ pool=one$' "free slot: prog ran once, holding a lease of pool one"
like "$runs" '(^|[^a-z])held:one=1($|[^0-9])' "the broker shows the slot held while prog runs"
is "$err" "" "nothing on stderr"
ok "the slot is free again after prog" hp_until 5000 hp_field_is one ready 1

cof one 99
is "$rc:$(grep -c '^ran ' "$T/runs")" "99:1" "granted and prog exits 99: exit 99, prog ran once"

hp_hold h one
ok "another holder takes the only slot of one" hp_until 5000 hp_holds h
cof one 5
is "$rc" 5 "full pool: after the wait, exits with prog's code"
is "$(grep '^ran ' "$T/runs")" "ran lease=none pool=none" "full pool: prog ran once, without a reservation"
cmp_ok "$ms" -ge 300 "full pool: it waited the 300 ms first"
like "$err" '^holdingpen-claim: ' "full pool: holdingpen-claim said why on stderr"
is "$(hp_field one held)" 1 "the holder still holds its slot"
kill -TERM "$HOLD_h"

cof nosuchpool 0
is "$rc:$runs" "2:" "unknown pool: exit 2, prog does not run"
like "$err" '^holdingpen-claim: ' "unknown pool: one line from holdingpen-claim"

cof secret 0
is "$rc:$runs" "1:" "denied by the rules: exit 1, prog does not run"

hp_hold l lim
ok "a holder takes one slot of lim (maxperuid 1)" hp_until 5000 hp_holds l
cof lim 0
is "$rc:$runs" "4:" "per-user limit reached: exit 4, prog does not run"
kill -TERM "$HOLD_l"

cof soon 0
is "$rc" 0 "ifelapsed pool: the first claim runs prog"
cof soon 0
is "$rc:$runs" "3:" "claimed again too soon: exit 3, prog does not run"

ok "no slot was granted twice (log)" hp_log_no_double_grant

done_testing
