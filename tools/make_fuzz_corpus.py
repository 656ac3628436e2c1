#!/usr/bin/python3
"""make_fuzz_corpus.py [DIR] - the fuzzer's seed corpus (test/fuzz/corpus): small valid models of
every architecture (V1, V2, V3 Large and Small) and both paddings/activations, plus a few near-misses (truncated, bad CRC)."""
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnet_format as fmt  # noqa: E402


def model(path, arch, alpha, res, classes, seed, **kw):
    rng = np.random.default_rng(seed)
    tensors = []
    for i, l in enumerate(fmt.layers(arch, alpha, 3, classes)):
        w = rng.standard_normal(fmt.weight_shape(l)).astype(np.float32) * 0.3
        if l["op"] in ("fc", "se_reduce", "se_expand"):   # bias, no BatchNorm
            tensors += fmt.layer_tensors(i, l, w, rng.standard_normal(l["cout"]) * 0.1)
        else:
            c = l["cout"]
            bn = (rng.uniform(0.5, 1.5, c), rng.uniform(-0.2, 0.2, c), rng.uniform(-0.2, 0.2, c),
                  rng.uniform(0.5, 1.5, c))
            tensors += fmt.layer_tensors(i, l, w, None, bn)
    fmt.write_model(path, arch, alpha, res, res, 3, classes, tensors, **kw)
    return open(path, "rb").read()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "test", "fuzz", "corpus")
    os.makedirs(out, exist_ok=True)
    v1 = model(os.path.join(out, "v1-a0.01-r32.mnet"), fmt.ARCH_V1, 0.01, 32, 3, 1)
    model(os.path.join(out, "v1-a0.01-r33-same-relu.mnet"), fmt.ARCH_V1, 0.01, 33, 2, 2,
          act=fmt.ACT_RELU, padding=fmt.PAD_TF_SAME)
    model(os.path.join(out, "v2-a0.05-r32.mnet"), fmt.ARCH_V2, 0.05, 32, 2, 3)
    model(os.path.join(out, "v3l-a0.1-r32.mnet"), fmt.ARCH_V3_LARGE, 0.1, 32, 2, 4, eps=1e-3)
    model(os.path.join(out, "v3s-a0.1-r35.mnet"), fmt.ARCH_V3_SMALL, 0.1, 35, 3, 5, eps=1e-3)
    with open(os.path.join(out, "v1-truncated.mnet"), "wb") as f:
        f.write(v1[:len(v1) // 2])
    bad = bytearray(v1)
    bad[200] ^= 1
    with open(os.path.join(out, "v1-bad-crc.mnet"), "wb") as f:
        f.write(bad)
    bad[-4:] = (zlib.crc32(bytes(bad[:-4])) & 0xFFFFFFFF).to_bytes(4, "little")
    with open(os.path.join(out, "v1-recrc.mnet"), "wb") as f:
        f.write(bad)
    for n in sorted(os.listdir(out)):
        print(n, os.path.getsize(os.path.join(out, n)))


if __name__ == "__main__":
    main()
