#!/bin/sh
# The s6-rc source definitions of examples/s6-rc are well formed.
#
# s6-rc-compile would be the real judge, but s6-rc is not packaged in Debian
# 12 (apt-cache policy s6-rc finds nothing), so this test checks the rules
# s6-rc-compile applies to a source directory (s6-rc 0.5), when s6-rc-compile
# is not installed; when it is, it compiles the directory as well:
#   - every definition directory has a type file: longrun, oneshot or bundle;
#   - a longrun has run, a oneshot has up, a bundle has contents (and no run);
#   - names in contents and dependencies are defined services or bundles
#     (the bundles made from pipeline-name files included), one per line;
#   - producer-for and consumer-for are reciprocal and link longruns;
#   - pipeline-name is on the last consumer of a pipeline, and names no
#     existing service;
#   - notification-fd is a number;
#   - the dependencies, with bundles expanded, have no cycle.
# Then the run scripts' descriptor plumbing is checked by running them with
# stand-ins for the programs they start.
. "$(dirname "$0")/lib.sh"

SRC="$HP_TESTDIR/../examples/s6-rc"
test -d "$SRC" || skip_all "no examples/s6-rc next to the tests"

# names FILE: the names a list file holds, one a line (blank lines and
# lines starting with # are not names; surrounding blanks are trimmed).
names() {
  sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' -e '/^#/d' < "$1"
}
firstline() {
  head -n 1 "$1" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'
}

# check_tree: the checks on the source directory $SRC, as TAP lines.
check_tree() {
  services=
  for d in "$SRC"/*/ ; do
    s=${d%/} ; s=${s##*/}
    case $s in .*) continue ;; esac
    services="$services $s"
  done
  ok "there are service definitions" test -n "$services"

  # The bundles that s6-rc-compile makes from pipeline-name files.
  pipelines=
  for s in $services ; do
    test -f "$SRC/$s/pipeline-name" && pipelines="$pipelines $(firstline "$SRC/$s/pipeline-name")"
  done

  defined() {
    for _d in $services $pipelines ; do
      test "x$_d" = "x$1" && return 0
    done
    return 1
  }
  typeof() {
    test -f "$SRC/$1/type" && firstline "$SRC/$1/type"
  }

  : > "$T/edges"
  for s in $services ; do
    dir="$SRC/$s"
    case $s in
      s6rc-*|s6-rc-*) fail "$s: the s6rc- and s6-rc- prefixes are reserved" ;;
    esac
    t=$(typeof "$s")
    case $t in
      longrun|oneshot|bundle) pass "$s: type $t" ;;
      *) fail "$s: type file says longrun, oneshot or bundle (got '$t')" ;;
    esac
    case $t in
      longrun)
        ok "$s: longrun with a run file" test -f "$dir/run"
        ;;
      oneshot)
        ok "$s: oneshot with an up file" test -f "$dir/up"
        ;;
      bundle)
        ok "$s: bundle with a contents file" test -f "$dir/contents" -o -d "$dir/contents.d"
        ok "$s: a bundle has no run file" test ! -e "$dir/run"
        if test -f "$dir/contents" ; then
          c=$(names "$dir/contents")
          ok "$s: contents is not empty" test -n "$c"
          for m in $c ; do
            ok "$s: contents names $m, which is defined" defined "$m"
            echo "$s $m" >> "$T/edges"
          done
        fi
        ;;
    esac
    if test -f "$dir/dependencies" ; then
      ok "$s: dependencies on a longrun or oneshot" test "$t" != bundle
      for m in $(names "$dir/dependencies") ; do
        ok "$s: dependencies names $m, which is defined" defined "$m"
        echo "$s $m" >> "$T/edges"
      done
    fi
    if test -f "$dir/notification-fd" ; then
      like "$(firstline "$dir/notification-fd")" '^[0-9]+$' "$s: notification-fd is a number"
      ok "$s: notification-fd on a longrun" test "$t" = longrun
    fi
    if test -f "$dir/producer-for" ; then
      c=$(firstline "$dir/producer-for")
      is "$(typeof "$c")" longrun "$s: producer-for $c, a longrun"
      ok "$s: $c has consumer-for naming $s" sh -c 'test -f "$1" && grep -qx "$2" "$1"' sh "$SRC/$c/consumer-for" "$s"
      ok "$s: producer-for on a longrun" test "$t" = longrun
    fi
    if test -f "$dir/consumer-for" ; then
      for p in $(names "$dir/consumer-for") ; do
        is "$(typeof "$p")" longrun "$s: consumer-for $p, a longrun"
        is "$(test -f "$SRC/$p/producer-for" && firstline "$SRC/$p/producer-for")" "$s" "$s: $p has producer-for $s"
      done
      if ! test -f "$dir/producer-for" ; then
        ok "$s: the last consumer of its pipeline has a pipeline-name" test -f "$dir/pipeline-name"
      fi
    fi
    if test -f "$dir/pipeline-name" ; then
      ok "$s: pipeline-name is on the last consumer" test -f "$dir/consumer-for" -a ! -f "$dir/producer-for"
      pn=$(firstline "$dir/pipeline-name")
      ok "$s: pipeline-name $pn is not also a service name" test ! -d "$SRC/$pn"
      # the pipeline bundle holds the consumer and, up the chain, its producers
      echo "$pn $s" >> "$T/edges"
      for p in $(names "$dir/consumer-for") ; do echo "$pn $p" >> "$T/edges" ; done
    fi
  done

  # tsort fails on a cycle; every service is a node even without edges.
  for s in $services ; do echo "$s $s" >> "$T/edges" ; done
  ok "no cycle in dependencies and bundle contents" sh -c 'tsort < "$1" > /dev/null 2>&1' sh "$T/edges"
}

check_tree

# The checks catch the mistakes they are there for: each scratch copy has
# one, and check_tree (run in a subshell, its TAP captured) must report it.
mutant() {
  rm -rf "$T/m" && cp -R "$HP_TESTDIR/../examples/s6-rc" "$T/m"
  _mu_desc=$1 _mu_ere=$2 ; shift 2
  (cd "$T/m" && sh -c "$1") || { fail "$_mu_desc: cannot make the mutant" ; return 1 ; }
  _mu_out=$( (SRC="$T/m" ; T="$T/m.t" ; mkdir -p "$T" ; check_tree) 2> /dev/null )
  like "$(printf '%s\n' "$_mu_out" | grep '^not ok')" "^not ok [0-9]+ - $_mu_ere" "mutant: $_mu_desc"
}
mutant "a type that does not exist" "display-manager: type file says" 'echo longrn > display-manager/type'
mutant "a longrun without run" "holdingpen-log: longrun with a run file" 'rm holdingpen-log/run'
mutant "a bundle without contents" "lab-workstation: bundle with a contents file" 'rm lab-workstation/contents'
mutant "a dependency on nothing" "display-manager: dependencies names holdingpn, which is defined" 'echo holdingpn > display-manager/dependencies'
mutant "bundle contents naming nothing" "lab-workstation: contents names xdm, which is defined" 'echo xdm >> lab-workstation/contents'
mutant "producer-for without its consumer-for" "holdingpen: holdingpen-log has consumer-for naming holdingpen" 'rm holdingpen-log/consumer-for'
mutant "consumer-for without its producer-for" "holdingpen-log: holdingpen has producer-for holdingpen-log" 'rm holdingpen/producer-for'
mutant "no pipeline-name on the last consumer" "holdingpen-log: the last consumer of its pipeline has a pipeline-name" 'rm holdingpen-log/pipeline-name'
mutant "pipeline-name on the producer" "holdingpen: pipeline-name is on the last consumer" 'echo p2 > holdingpen/pipeline-name'
mutant "notification-fd not a number" "holdingpen: notification-fd is a number" 'echo three > holdingpen/notification-fd'
mutant "a dependency cycle" "no cycle in dependencies" 'echo display-manager > holdingpen/dependencies'

# What the README and doc/index.html promise of these definitions.
is "$(typeof holdingpen)/$(firstline "$SRC/holdingpen/notification-fd" 2>/dev/null)" "longrun/3" "holdingpen: a longrun with notification-fd 3"
ok "holdingpen depends on holdingpen-fdholder, which keeps its leases across restarts" sh -c 'grep -qx holdingpen-fdholder "$1"' sh "$SRC/holdingpen/dependencies"
is "$(typeof holdingpen-fdholder)/$(firstline "$SRC/holdingpen-fdholder/notification-fd" 2>/dev/null)" "longrun/3" "holdingpen-fdholder: a longrun with notification-fd 3"
ok "display-manager depends on holdingpen" sh -c 'grep -qx holdingpen "$1"' sh "$SRC/display-manager/dependencies"
ok "lab-workstation holds the pipeline and display-manager" sh -c 'grep -qx holdingpen-pipeline "$1" && grep -qx display-manager "$1"' sh "$SRC/lab-workstation/contents"

if command -v s6-rc-compile > /dev/null 2>&1 ; then
  s6-rc-compile "$T/compiled" "$SRC" > "$T/compile.out" 2>&1
  is "$?" 0 "s6-rc-compile accepts the source directory"
else
  skip "s6-rc-compile is not installed (not packaged in Debian 12)"
fi

# --- the run scripts, with stand-ins for the programs they start ---
test -x /bin/execlineb || { skip "/bin/execlineb is not installed" 4 ; done_testing ; }
mkdir -p "$T/stub"
# A stand-in that says which descriptor is which: "log" on stderr, "ready"
# on stdout, whether fd 3 is still open, and its arguments.
for p in holdingpen-daemon s6-log s6-fdholder-daemon ; do
  cat > "$T/stub/$p" <<'EOF'
#!/bin/sh
echo "log $*" 1>&2
echo "ready"
if { true >&3 ; } 2> /dev/null ; then echo "fd3 open" 1>&2 ; else echo "fd3 closed" 1>&2 ; fi
EOF
  chmod 755 "$T/stub/$p"
done

# holdingpen/run: as s6-supervise starts it, stdout the pipe to the logger
# (a file here) and fd 3 the readiness pipe (another file).
PATH="$T/stub:$PATH" timeout -s KILL 10 "$SRC/holdingpen/run" > "$T/tolog" 3> "$T/toready" 2> "$T/stderr" < /dev/null
is "$?" 0 "holdingpen/run parses and runs"
is "$(cat "$T/toready")" "ready" "holdingpen/run: the daemon's stdout is the readiness pipe (fd 3)"
is "$(cat "$T/tolog")" "log -1 -r 30000 -f /run/holdingpen-fdholder.socket -i /etc/holdingpen/rules /run/holdingpen.socket
fd3 closed" "holdingpen/run: its stderr goes to the logger, fd 3 is closed, and the arguments are the README's"

PATH="$T/stub:$PATH" timeout -s KILL 10 "$SRC/holdingpen-fdholder/run" > "$T/tolog" 3> "$T/toready" 2> "$T/stderr" < /dev/null
is "$(cat "$T/toready")" "ready" "holdingpen-fdholder/run: the fd holder's stdout is the readiness pipe"
is "$(cat "$T/tolog")" "log -1 -n 4096 -i /etc/holdingpen/fdholder-rules /run/holdingpen-fdholder.socket
fd3 closed" "holdingpen-fdholder/run: the socket holdingpen/run names, the rules from /etc/holdingpen"

PATH="$T/stub:$PATH" timeout -s KILL 10 "$SRC/holdingpen-log/run" > /dev/null 2> "$T/stderr" < /dev/null
like "$(head -n 1 "$T/stderr")" "^log -- n20 s1000000 t /var/log/holdingpen\$" "holdingpen-log/run parses and runs s6-log on /var/log/holdingpen"

done_testing
