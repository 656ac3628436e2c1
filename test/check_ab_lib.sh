#!/usr/bin/env bash
# check_ab_lib.sh EXE LIBMNET MODEL - tools/ab_lib: a build against a copy of itself gives
# identical logits, on a random model and on a model file, with one line per figure; a missing
# library, a library without mnet's symbols, a missing model file and bad arguments each end
# with their exit status (1, 1, 1, 2) and a message naming the problem.
set -uo pipefail
exe=$1 lib=$2 model=$3
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
cp "$lib" "$tmp/copy.so"   # the same path twice would be one loaded library
fail() { echo "FAIL: $*"; exit 1; }

out=$("$exe" "$lib" "$tmp/copy.so" --arch v2 --alpha 0.35 --res 96 --runs 6 2>&1) || fail "random model: $out"
echo "$out"
echo "$out" | grep -q '^logits: identical$' || fail "random model: logits not identical"
echo "$out" | grep -Eq '^B / A over 6 pairs: median [0-9]+\.[0-9]{3}, quartiles [0-9.]+-[0-9.]+$' ||
    fail "random model: no ratio line"
[ "$(echo "$out" | grep -Ec '^[AB] .*: median [0-9]+\.[0-9]{3} ms$')" = 2 ] || fail "not two medians"

out=$("$exe" "$lib" "$tmp/copy.so" --model "$model" --threads 2 --runs 4 2>&1) || fail "model file: $out"
echo "$out" | grep -q '^logits: identical$' || fail "model file: logits not identical: $out"

err=$("$exe" /nonexistent/libmnet.so.0 "$lib" 2>&1); rc=$?
[ $rc = 1 ] && echo "$err" | grep -q '/nonexistent/libmnet.so.0' || fail "missing library: rc $rc: $err"
err=$("$exe" "$lib" libm.so.6 2>&1); rc=$?
[ $rc = 1 ] && echo "$err" | grep -q 'libm.so.6: no symbol mnet_' || fail "missing symbol: rc $rc: $err"
err=$("$exe" "$lib" "$tmp/copy.so" --model /nonexistent.mnet 2>&1); rc=$?
[ $rc = 1 ] && echo "$err" | grep -q 'the model' || fail "missing model: rc $rc: $err"
err=$("$exe" "$lib" 2>&1); rc=$?
[ $rc = 2 ] && echo "$err" | grep -q '^usage: ab_lib' || fail "one library: rc $rc: $err"
for args in "--arch" "--arch v4" "--runs 0" "--runs x" "--threads 0" "--bogus 1" "--res"; do
    # shellcheck disable=SC2086
    err=$("$exe" "$lib" "$tmp/copy.so" $args 2>&1); rc=$?
    [ $rc = 2 ] && echo "$err" | grep -q '^usage: ab_lib' || fail "arguments '$args': rc $rc: $err"
done
echo "1 passed, 0 failed"
