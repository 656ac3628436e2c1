#!/usr/bin/env bash
# fuzz.sh [SECONDS] - fuzz the model loader (test/fuzz/fuzz_model.c) with libFuzzer, clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, starting from test/fuzz/corpus.  The fuzzing
# build ignores checksum mismatches (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION), so mutations
# reach every other check instead of dying at the CRC.
# Exit 0 when the time runs out with nothing found; otherwise the failing input is in
# build-fuzz/artifacts/: commit it to test/fuzz/regressions/ (meson test replays that folder).
# Prints libFuzzer's final statistics (executions, coverage, peak RSS).
# The fuzzing build is scalar-only (-Dsimd=disabled): the target is the loader and the runtime
# around the kernels; the SIMD kernels are proven by the differential tests (also under ASan),
# and their heavily inlined loop nests would take clang minutes to instrument.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-300}
dir=build-fuzz
if [ ! -f "$dir/build.ninja" ]; then
    CC=clang meson setup "$dir" -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION' \
        -Dbuildtype=debugoptimized \
        -Dtests=false -Dbenchmarks=disabled -Dtool=disabled -Dsimd=disabled >/dev/null
fi
ninja -C "$dir" libmnet_core.a >/dev/null
deps=$(pkg-config --libs sleef 2>/dev/null || true)
clang -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Iinclude \
    test/fuzz/fuzz_model.c "$dir/libmnet_core.a" $deps -lm -lpthread -o "$dir/fuzz_model"
mkdir -p "$dir/artifacts" "$dir/corpus"
cp -n test/fuzz/corpus/* "$dir/corpus/" 2>/dev/null || true
# -rss_limit_mb: the loader allocates at most about the file's size plus the activation plan;
# anything beyond 2 GB is a bug.  -timeout: a load or a small inference takes milliseconds.
"$dir/fuzz_model" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=300000 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus" test/fuzz/regressions \
    2>"$dir/fuzz.log" || { tail -60 "$dir/fuzz.log"; echo "fuzz: FAILED, input in $dir/artifacts/"; exit 1; }
grep -E "^stat::|^#[0-9]+.*DONE" "$dir/fuzz.log" | tail -12
echo "fuzz: ${secs} s, nothing found"
