#!/usr/bin/env bash
# check_install.sh BUILD_DIR CC - `meson install` puts libmnet.so.0 (with its soname), mnet.h and
# mnet.pc in place, and a program built only from the installed pkg-config file runs.
set -euo pipefail
build=$1
cc=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null
lib=$(find "$dest" -name 'libmnet.so.0' | head -n 1)
hdr=$(find "$dest" -name 'mnet.h' | head -n 1)
pc=$(find "$dest" -name 'mnet.pc' | head -n 1)
for f in "$lib" "$hdr" "$pc"; do
    [ -n "$f" ] || { echo "missing: libmnet.so.0, mnet.h or mnet.pc under $dest"; exit 1; }
done
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "libmnet.so.0" ] || { echo "soname is '$soname'"; exit 1; }
cat > "$dest/app.c" <<'C'
#include <mnet.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    float a[2] = { 1, 2 }, b[2] = { 3, 4 }, c[1];
    if (mnet_gemm_f32(MNET_ISA_AUTO, 1, 1, 2, a, b, NULL, -1e30f, 1e30f, c) != MNET_OK || c[0] != 11.0f)
        return 1;
    printf("mnet %s via pkg-config: ok\n", mnet_version_string());
    return strcmp(mnet_version_string(), "") == 0;
}
C
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest
# shellcheck disable=SC2046
"$cc" -o "$dest/app" "$dest/app.c" $(pkg-config --cflags --libs mnet)
LD_LIBRARY_PATH=$(dirname "$lib") "$dest/app"
