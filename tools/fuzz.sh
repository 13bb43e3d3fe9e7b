#!/bin/sh -e
# Builds the libFuzzer harnesses in fuzz/ with clang, ASan and UBSan, and
# runs each on its corpus. Usage: tools/fuzz.sh [ runs | -max_total_time=SECONDS ]
# Default: 200000 runs each, a few seconds; give more for a real campaign.

cd "$(dirname "$0")/.."
limit="${1:-200000}"
case "$limit" in
  -*) ;;
  *) limit="-runs=$limit" ;;
esac
command -v clang >/dev/null 2>&1 || { echo "tools/fuzz.sh: fatal: clang is needed (apt-get install clang)" 1>&2 ; exit 100 ; }
[ -f config.mak ] || { echo "tools/fuzz.sh: fatal: run ./configure first" 1>&2 ; exit 100 ; }
inc=$(sed -n 's/^CPPFLAGS_AUTO := //p' config.mak)
lib=$(sed -n 's/^LDFLAGS_AUTO := //p' config.mak)
out=fuzz/bin
mkdir -p "$out"
flags="-g -O1 -std=c99 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc/include -Isrc/include-local $inc"
clang $flags -o "$out/fuzz-request" fuzz/fuzz-request.c src/libhpwire/*.c src/libhppool/*.c $lib -lskarnet
clang $flags -o "$out/fuzz-size" fuzz/fuzz-size.c src/libhppool/*.c $lib -lskarnet
clang $flags -o "$out/fuzz-answer" fuzz/fuzz-answer.c src/libholdingpen/*.c $lib -ls6 -lskarnet
# holdingpend's client handling on a live socket: every file of the daemon but the one with main
clang $flags -Isrc/holdingpend -Wl,--wrap=child_spawn1_socket -o "$out/fuzz-client" fuzz/fuzz-client.c $(ls src/holdingpend/*.c | grep -v '/holdingpend\.c$') src/libhpwire/*.c src/libhppool/*.c $lib -ls6 -lskarnet
for f in request size answer client ; do
  mkdir -p "$out/corpus-$f"
  "$out/fuzz-$f" "$limit" -max_len=4096 "$out/corpus-$f" "fuzz/corpus/$f" 2>"$out/fuzz-$f.log" || { tail -30 "$out/fuzz-$f.log" 1>&2 ; echo "tools/fuzz.sh: fatal: fuzz-$f found a crash" 1>&2 ; exit 1 ; }
  echo "fuzz-$f: $(grep -E '^Done' "$out/fuzz-$f.log")"
done
