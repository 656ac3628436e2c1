#!/usr/bin/env bash
# test-all.sh - the whole test suite: native (AVX2 + the qemu CPU-model runs, Nehalem included),
# scalar-only (-Dsimd=disabled), the AArch64 NEON build under qemu-aarch64, and the kernel,
# runtime, malformed-file, concurrency and dlopen-cycle tests again under AddressSanitizer +
# UndefinedBehaviorSanitizer (LeakSanitizer included), and the threaded ones (the worker pool's
# stress test among them) under ThreadSanitizer.
# A skipped test counts as a failure.  Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

# The sanitizer builds leave out the AVX-512 tier on a CPU without AVX-512F: none of its code
# could run there, and its depthwise file alone takes minutes to compile instrumented.
san_opts=""
if [ "$(uname -m)" = x86_64 ] && ! grep -qw avx512f /proc/cpuinfo; then
    san_opts="-Davx512=disabled"
fi
# dir :: meson options :: tests to run (empty = all; or meson test's options).  The scalar-only
# build leaves out the suite `tools` (the Python tools' own tests, which the native build runs on
# the same Python code; its C suites test the library without SIMD tiers), and test/meson.build
# runs its library on qemu's Nehalem model only.
configs=(
    "build::::"
    "build-scalar::-Dsimd=disabled::--no-suite tools"
    "build-arm64::--cross-file cross/aarch64-linux-gnu.ini::"
    "build-asan::$san_opts -Db_sanitize=address,undefined -Dc_args=-fno-sanitize-recover=all -Dbuildtype=debugoptimized -Dbenchmarks=disabled::kernels errors model format fusion-equal fusion-batch concurrency dlcycle fpenv fuzz-replay dlopen dlopen-example dispatch-default dispatch-bogus exported-symbols"
    "build-tsan::$san_opts -Db_sanitize=thread -Dbuildtype=debugoptimized -Dbenchmarks=disabled::concurrency fusion-equal fusion-batch pool pool-nospin pool-spread pool-steal"
)
passed=0
failed=0
for cfg in "${configs[@]}"; do
    dir=${cfg%%::*}
    rest=${cfg#*::}
    opts=${rest%%::*}
    only=${rest#*::}
    echo "=== $dir ($opts)"
    if [ ! -f "$dir/build.ninja" ]; then
        # shellcheck disable=SC2086
        meson setup "$dir" $opts >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; failed=$((failed + 1)); continue; }
        rm -f "$dir.setup.log"
    fi
    if ! ninja -C "$dir" >/dev/null; then
        ninja -C "$dir" | tail -40
        echo "$dir: build failed"
        failed=$((failed + 1))
        continue
    fi
    rm -f "$dir/meson-logs/testlog.json"
    # shellcheck disable=SC2086
    meson test -C "$dir" --print-errorlogs --num-processes 2 $only
    # Count from meson's own log: a SKIP is a failure here (a cross build without its wrapper,
    # a missing qemu, a missing tool must not pass silently).
    read -r p f < <(/usr/bin/env python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["result"] in ("OK", "EXPECTEDFAIL"):
        ok += 1
    else:
        bad += 1
        print(f"  not passed: {r['name']}: {r['result']}", file=sys.stderr)
print(ok, bad)
PY
    )
    p=${p:-0}
    f=${f:-1}
    if [ "$p" = 0 ] && [ "$f" = 0 ]; then
        echo "$dir: no tests ran"; f=1
    fi
    echo "$dir: $p passed, $f failed"
    passed=$((passed + p))
    failed=$((failed + f))
done
# Denormal weights cost at most 1.5x (issue: hardening): a benchmark-based CI step on the native
# build, comparing the best of 3 interleaved `mnet bench` medians.
if [ -x build/mnet ]; then
    echo "=== denormal weights"
    if bash tools/check_denormal_speed.sh build/mnet; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
fi

# The model loader under libFuzzer (clang, ASan + UBSan) for a bounded time: MNET_FUZZ_SECONDS,
# 120 by default; 0 skips it (and counts as neither).
fuzz_secs=${MNET_FUZZ_SECONDS:-120}
if [ "$fuzz_secs" != 0 ]; then
    echo "=== fuzz (${fuzz_secs} s)"
    if bash tools/fuzz.sh "$fuzz_secs"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
