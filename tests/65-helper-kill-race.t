#!/bin/sh
# A helper killed by SIGKILL while holdingpend has an unread message from it,
# or has written to it what it has not read, is a crash: logged
# event=helper-crash ... signal=KILL, never event=helper-error. Thirty
# rounds, each made deterministic with SIGSTOP:
#  - unread by the helper: the helper is stopped, a lease ends (holdingpend
#    tells it to scrub), the helper is killed with the order unread;
#  - unread by holdingpend: the same, then holdingpend is stopped, the
#    helper continued: it scrubs and says ready; it is killed, and
#    holdingpend, continued, finds its message and its end together.
. "$(dirname "$0")/lib.sh"
hp_setup

hp_pool p 16M 1
hp_start_supervised -p "$T/pools"
hp_wait_up || bail_out "the daemon did not become ready"
pid=$(hp_daemon_pid)

# stopped PID: the process is stopped (state T)
stopped() {
  _st=$(cat "/proc/$1/stat" 2> /dev/null) || return 1
  _st=${_st##*) }
  case $_st in T*|t*) return 0 ;; esac
  return 1
}
# sleeping PID: the process waits (state S): a helper that has said what it had to say
sleeping() {
  _st=$(cat "/proc/$1/stat" 2> /dev/null) || return 1
  _st=${_st##*) }
  case $_st in S*) return 0 ;; esac
  return 1
}
# the one helper of the daemon, checked to be below it; empty if not exactly one
the_helper() {
  _h=$(hp_helper_pids "$pid")
  test "$(echo $_h | wc -w)" -eq 1 && echo $_h
}

rounds=30
killed=0
round=0
while test $round -lt $rounds ; do
  round=$((round + 1))
  hp_until 5000 hp_field_is p ready 1 || { diag "round $round: the slot did not come back" ; break ; }
  h=$(the_helper)
  test -n "$h" || { diag "round $round: not one helper" ; break ; }
  kill -STOP "$h"
  hp_until 2000 stopped "$h" || { kill -CONT "$h" ; diag "round $round: the helper did not stop" ; break ; }
  hp_claim -n p true || { kill -CONT "$h" ; diag "round $round: the claim failed" ; break ; }
  # the lease has ended: holdingpend has told the stopped helper to scrub
  hp_until 2000 hp_field_is p preparing 1 || { kill -CONT "$h" ; diag "round $round: the slot is not scrubbing" ; break ; }
  if test $((round % 2)) -eq 0 ; then
    test "$(hp_daemon_pid)" = "$pid" || break
    kill -STOP "$pid"
    kill -CONT "$h"
    hp_until 2000 sleeping "$h"
    sleep 0.1
    test "$(the_helper)" = "$h" && kill -KILL "$h" && killed=$((killed + 1))
    kill -CONT "$pid"
  else
    test "$(the_helper)" = "$h" && kill -KILL "$h" && killed=$((killed + 1))
  fi
done
is "$killed" "$rounds" "$rounds helpers were killed, half with an order unread, half with a message unread"
ok "each is logged as a crash" hp_until 5000 eval 'test "$(hp_log_kv_count event=helper-crash pool=p)" -ge "$killed"'
is "$(hp_log_kv_count event=helper-crash pool=p signal=KILL)" "$killed" "every crash line says signal=KILL"
is "$(hp_log_kv_count event=helper-error)" 0 "no event=helper-error"
hp_log_kv event=helper-error | head -3 | while IFS= read -r l ; do diag "$l" ; done
note "states at the kills: $(hp_log_kv event=helper-crash | sed -n 's/.* state=\([a-z]*\).*/\1/p' | sort | uniq -c | tr -s ' \n' ' ')"
ok "the slot comes back after all" hp_until 10000 hp_field_is p ready 1
is "$(hp_daemon_pid)" "$pid" "the daemon is the same process"
done_testing
