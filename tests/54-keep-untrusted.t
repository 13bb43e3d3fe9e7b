#!/bin/sh
# An fd holder that runs as nobody, listening at holdingpend's -f path,
# with records in it (a lease over a socketpair naming an innocent
# process, that process's pidfd, a listening socket under the name of
# holdingpend's own): holdingpend refuses it (one log line) and takes
# nothing from it, so no lease is held, every slot is ready, the
# innocent gets no signal; and holdingpen-daemon does not take the
# listening socket from it either: it binds its own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-keep.sh"
. "$(dirname "$0")/lib-policy.sh"

command -v s6-fdholder-store > /dev/null 2>&1 || skip_all "s6-fdholder-store is not installed"
hpp_open_tmp
hp_pool x 1M 2 expire=2 killdelay=1
siglog=$(hp_probe hp-probe-siglog) || bail_out "cannot build hp-probe-siglog"
fdput=$(hp_probe hp-probe-fdput) || bail_out "cannot build hp-probe-fdput"

# nobody's fd holder, in a directory of nobody's, its rules letting root in
HPF_FDHOLDER=$T/nob/fdholder
mkdir -p "$T/nob" "$T/fdrules/uid/0/env" "$T/scan/fdholder"
chown 65534:65534 "$T/nob"
: > "$T/fdrules/uid/0/allow"
echo '^holdingpen/' > "$T/fdrules/uid/0/env/S6_FDHOLDER_STORE_REGEX"
echo '^holdingpen/' > "$T/fdrules/uid/0/env/S6_FDHOLDER_RETRIEVE_REGEX"
echo 1 > "$T/fdrules/uid/0/env/S6_FDHOLDER_GETDUMP"
echo 1 > "$T/fdrules/uid/0/env/S6_FDHOLDER_LIST"
chmod -R a+rX "$T/fdrules"
{
  echo '#!/bin/sh'
  echo "exec 2>>$(hp__quote "$T/fdholder.log")"
  echo "exec s6-applyuidgid -u 65534 -g 65534 -G '' s6-fdholder-daemon -1 -n 100 -i $(hp__quote "$T/fdrules") $(hp__quote "$HPF_FDHOLDER")"
} > "$T/scan/fdholder/run"
chmod 755 "$T/scan/fdholder/run"
echo 1 > "$T/scan/fdholder/notification-fd"
# the broker's service, down until the records are in
mkdir -p "$T/scan/holdingpen"
: > "$T/scan/holdingpen/down"
hp_start_supervised -p "$T/pools" -f "$HPF_FDHOLDER"
hpf_fdholder_up || bail_out "nobody's fd holder did not come up"
fdh=$(s6-svstat -p "$T/scan/fdholder")
is "$(awk '$1 == "Uid:" { print $2 }' "/proc/$fdh/status")" 65534 "the fd holder runs as nobody"

hp_bg "$siglog" "$T/innocent" 60
innocent=$HP_BG_PID
hp_until 3000 grep -q '^start' "$T/innocent"
now=$(date +%s)
ok "a lease record" "$fdput" pair s6-fdholder-store "$HPF_FDHOLDER" "holdingpen/lease/7/x/0/0/0/$innocent/$((now - 5))/$((now + 1))"
ok "a pidfd record" "$fdput" pidfd "$innocent" s6-fdholder-store "$HPF_FDHOLDER" "holdingpen/pidfd/7/$now/0"
ok "a listening socket under holdingpend's name" s6-ipcserver-socketbinder "$T/nob/evil" s6-fdholder-store "$HPF_FDHOLDER" "$(hpf_listen_id)"
before=$(s6-fdholder-list "$HPF_FDHOLDER" | sort)

rm -f "$HP_SVC/down"
s6-svc -u "$HP_SVC"
hp_wait_up || bail_out "the daemon did not become ready"
ok "holdingpend says it refuses the fd holder" hp_until 3000 hp_log_has '^holdingpend: .*refusing the fd holder at .* uid 65534'
ok "holdingpen-daemon refuses it too, before it asks it for anything" hp_log_has '^holdingpen-daemon: .*refusing the fd holder at .* uid 65534'
is "$(hpf_leases)" "" "no lease is held"
ok "both slots are ready" hp_until 5000 hp_field_is x ready 2
ok "no restore line: nothing was taken back" eval '! hp_log_has "event=restore"'
unlike "$(cat "$T/log")" "refusing the listening socket kept" "holdingpen-daemon did not take a listening socket from it"
is "$(s6-fdholder-list "$HPF_FDHOLDER" | sort)" "$before" "what nobody's fd holder keeps is untouched"
out=$(hp_claim -n x "$(hp_probe hp-probe-read)" 2>&1)
like "$out" " nonzero=0 " "holdingpend serves on its own socket"
sleep 3
is "$(grep -c '^sig' "$T/innocent")" 0 "the innocent got no signal"
ok "the innocent is alive" hp_alive "$innocent"
is "$(hp_log_count '^holdingpend: .*refusing the fd holder')" 1 "holdingpend's refusal is said once"
done_testing
