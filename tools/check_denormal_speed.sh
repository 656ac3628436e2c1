#!/usr/bin/env bash
# check_denormal_speed.sh [MNET] - a V2 1.0 224 model whose weights are all denormal floats
# (|w| ~ 1e-39) runs within 1.5x of the same model with normal weights.  Both are timed with
# `mnet bench`, interleaved over 3 rounds; the best median of each is compared (the machine is
# shared and noisy).  Prints the figures and "1 passed, 0 failed" or "0 passed, 1 failed".
set -euo pipefail
cd "$(dirname "$0")/.."
mnet=${1:-build/mnet}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp" <<'PY'
import os, sys
import numpy as np
sys.path.insert(0, "tools")
import mnet_format as fmt
rng = np.random.default_rng(0)
for name, scale in (("normal", 1.0), ("denormal", 1e-39)):
    tensors = []
    for i, l in enumerate(fmt.layers(fmt.ARCH_V2, 1.0, 3, 1000)):
        w = (rng.standard_normal(fmt.weight_shape(l)) * 0.1 * scale).astype(np.float32)
        if l["op"] == "fc":
            tensors += fmt.layer_tensors(i, l, w, np.zeros(1000))
        else:
            c = l["cout"]
            tensors += fmt.layer_tensors(i, l, w, None, (np.ones(c), np.full(c, scale), np.zeros(c), np.ones(c)))
    fmt.write_model(os.path.join(sys.argv[1], name + ".mnet"), fmt.ARCH_V2, 1.0, 224, 224, 3, 1000, tensors)
PY
best() { sort -g | head -n 1; }
n_med=() d_med=()
for round in 1 2 3; do
    for kind in normal denormal; do
        m=$("$mnet" bench "$tmp/$kind.mnet" --runs 30 | tail -n 1 | sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p')
        if [ "$kind" = normal ]; then n_med+=("$m"); else d_med+=("$m"); fi
    done
done
n=$(printf '%s\n' "${n_med[@]}" | best)
d=$(printf '%s\n' "${d_med[@]}" | best)
ratio=$(awk -v a="$d" -v b="$n" 'BEGIN { printf "%.2f", a / b }')
echo "denormal weights: median ${d_med[*]} ms; normal: ${n_med[*]} ms; best ${d} / ${n} = ${ratio}x (limit 1.5x)"
if awk -v r="$ratio" 'BEGIN { exit !(r <= 1.5) }'; then
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
    exit 1
fi
