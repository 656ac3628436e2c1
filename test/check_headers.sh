#!/usr/bin/env bash
# check_headers.sh CC CXX INCLUDE_DIR LIBMNET - the public header compiles on its own as C99, C11
# and C++ with -Wall -Wextra -Werror -pedantic, and the soname's major version is the header's
# MNET_API_VERSION.
set -euo pipefail
cc=$1 cxx=$2 inc=$3 lib=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include "mnet.h"\nint main(void) { return mnet_isa_name(MNET_ISA_AUTO) == 0; }\n' > "$tmp/a.c"
cp "$tmp/a.c" "$tmp/a.cc"
n=0
for std in c99 c11; do
    "$cc" -std=$std -Wall -Wextra -Werror -pedantic -I"$inc" -c "$tmp/a.c" -o "$tmp/a.o"
    n=$((n + 1))
done
if command -v "$cxx" >/dev/null 2>&1; then
    for std in c++11 c++17; do
        "$cxx" -std=$std -Wall -Wextra -Werror -pedantic -I"$inc" -c "$tmp/a.cc" -o "$tmp/a.o"
        n=$((n + 1))
    done
else
    echo "no C++ compiler '$cxx'"; exit 1
fi
api=$(sed -n 's/^#define MNET_API_VERSION \([0-9]*\).*/\1/p' "$inc/mnet.h")
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "libmnet.so.$api" ] || { echo "soname $soname, MNET_API_VERSION $api"; exit 1; }
echo "header compiled $n ways; soname $soname matches MNET_API_VERSION $api"
echo "$((n + 1)) passed, 0 failed"
