#!/usr/bin/env bash
# quickstart.sh - set everything up and run the main job: install the packages, build, classify
# the bundled Fashion-MNIST images and the whole test set, and benchmark MobileNet V2 1.0.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build
fm=tools/fashion-mnist
echo
./build/mnet isa
echo
echo "== mnet classify: the bundled images (top 3)"
./build/mnet classify "$fm/fashion_mnist_v2.mnet" "$fm"/images/*.png --labels "$fm/labels.txt" --top 3
echo
echo "== mnet classify: the 10,000 Fashion-MNIST test images"
./build/mnet classify "$fm/fashion_mnist_v2.mnet" \
    --idx-images /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \
    --idx-labels /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz
echo
echo "== mnet bench --arch v2 (MobileNet V2 1.0, 224x224, random weights, 1 thread)"
./build/mnet bench --arch v2
