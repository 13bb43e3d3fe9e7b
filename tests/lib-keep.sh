# Sourced by the tests of leases and reservations that outlive the broker,
# after lib.sh: an s6-fdholderd companion in the same scan directory.
#
#   hpk_fdholder       makes the fd holder's service ($T/scan/fdholder, its
#                      socket $HPK_FDHOLDER) with rules that let root keep
#                      and take back holdingpen/ identifiers
#   hpk_wait_restart OLDPID
#                      waits until s6-supervise has started another
#                      holdingpend and it is ready
#   hpk_leases         the status's lease records, sorted, without age

hpk_fdholder() {
  HPK_FDHOLDER=$T/fdholder
  mkdir -p "$T/fdrules/uid/0/env" "$T/scan/fdholder"
  : > "$T/fdrules/uid/0/allow"
  echo '^holdingpen/' > "$T/fdrules/uid/0/env/S6_FDHOLDER_STORE_REGEX"
  echo '^holdingpen/' > "$T/fdrules/uid/0/env/S6_FDHOLDER_RETRIEVE_REGEX"
  echo 1 > "$T/fdrules/uid/0/env/S6_FDHOLDER_GETDUMP"
  echo 1 > "$T/fdrules/uid/0/env/S6_FDHOLDER_LIST"
  {
    echo '#!/bin/sh'
    echo "exec 2>>$(hp__quote "$T/fdholder.log")"
    echo "exec s6-fdholder-daemon -1 -n 4000 -i $(hp__quote "$T/fdrules") $(hp__quote "$HPK_FDHOLDER")"
  } > "$T/scan/fdholder/run"
  chmod 755 "$T/scan/fdholder/run"
  echo 1 > "$T/scan/fdholder/notification-fd"
}

hpk_fdholder_up() {
  hp_until 5000 s6-svok "$T/scan/fdholder" && s6-svwait -U -t 10000 "$T/scan/fdholder"
}

hpk_new_daemon() {
  _hnd=$(hp_daemon_pid) && test "$_hnd" != "$1"
}

hpk_wait_restart() {
  hp_until 10000 hpk_new_daemon "$1" && hp_wait_up 20000
}

hpk_leases() {
  hp_status | sed -n 's/ age=[0-9]*//p' | grep '^lease=' | sort
}
