#!/bin/sh
# The parsers of untrusted input (requests the daemon reads, answers the
# client library reads, pool file values), and the daemon's own client
# handling on a live socket, under libFuzzer with ASan and UBSan, a bounded
# number of runs each from the seed corpus in fuzz/corpus.
. "$(dirname "$0")/lib.sh"
hp_setup

command -v clang >/dev/null 2>&1 || skip_all "clang is not installed (apt-get install clang)"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d ; (void)n ; return 0 ; }\n' > "$T/probe.c"
clang -fsanitize=fuzzer -o "$T/probe" "$T/probe.c" >/dev/null 2>&1 || skip_all "clang cannot link libFuzzer here (apt-get install libclang-rt-14-dev)"

out=$("$HP_BUILD/tools/fuzz.sh" "${HP_FUZZ_RUNS:-100000}" 2>&1)
rc=$?
is "$rc" 0 "every fuzzer ran its runs without a crash, leak or UB report"
for f in request size answer client ; do
  like "$out" "fuzz-$f: Done [0-9]+ runs" "fuzz-$f ran"
done
[ "$rc" = 0 ] || diag "$out"
done_testing
