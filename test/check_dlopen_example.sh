#!/usr/bin/env bash
# check_dlopen_example.sh EXE LIBMNET MODEL IMAGE LABELS - examples/dlopen_classify: classifies
# the bundled trouser as "Trouser" through dlopen only, and reports a missing library or symbol
# with exit status 1 and one clear line.
set -uo pipefail
exe=$1 lib=$2 model=$3 image=$4 labels=$5
out=$("$exe" --lib "$lib" "$model" "$image" "$labels") || { echo "classify failed: $out"; exit 1; }
echo "$out"
echo "$out" | sed -n 2p | grep -q "Trouser" || { echo "top-1 is not Trouser"; exit 1; }
[ "$(echo "$out" | grep -c '^  [1-5]\. class')" = 5 ] || { echo "not 5 classes"; exit 1; }
err=$("$exe" --lib /nonexistent/libmnet.so.0 "$model" "$image" 2>&1); rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "cannot load /nonexistent/libmnet.so.0" || { echo "missing library: rc $rc: $err"; exit 1; }
err=$("$exe" --lib libm.so.6 "$model" "$image" 2>&1); rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "has no symbol mnet_" || { echo "missing symbol: rc $rc: $err"; exit 1; }
err=$("$exe" --lib "$lib" /nonexistent.mnet "$image" 2>&1); rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "cannot open" || { echo "missing model: rc $rc: $err"; exit 1; }
echo "1 passed, 0 failed"
