#!/usr/bin/env bash
# install-deps.sh - install every Debian package mnet's build, tests and cross tests need.
# Idempotent; needs root (or sudo).  The package list is TOOLCHAIN.md's, verified on Debian 12.
set -euo pipefail

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

native="meson ninja-build pkg-config gcc g++ check libsubunit-dev libsleef-dev libbenchmark-dev
        python3 binutils qemu-user libpng-dev libjpeg-dev zlib1g-dev
        python3-numpy python3-torch python3-torchvision python3-onnx dataset-fashion-mnist
        python3-pytest python3-pil python3-matplotlib valgrind clang libclang-rt-14-dev"
cross="gcc-aarch64-linux-gnu libc6-dev-arm64-cross libc6:arm64 check:arm64 libsleef-dev:arm64"

missing=""
for p in $native $cross; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi
echo "install-deps: installing:$missing"
$SUDO dpkg --add-architecture arm64
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $native $cross
