#!/usr/bin/python3
"""mnet_reference.py - a plain numpy forward pass over an mnet model file, in float64.

    mnet_reference.py MODEL --input IN.f32 --output OUT.f32 [--batch N]

Same files as `mnet run`: IN is N preprocessed images, NHWC float32 little-endian; OUT gets
N x classes float32 logits.  Everything comes from the file: the layer list of its architecture
and width multiplier (tools/mnet_format.py), the raw tensors, BatchNorm applied with the
header's epsilon (never folded), the header's padding rule and, for V1/V2, its activation.
Written for reading, not speed, and sharing nothing with the C runtime, so the converter can be
proved against PyTorch without it and the runtime against an independent reading of the format.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnet_format as fmt  # noqa: E402

ACTIVATIONS = {
    "none": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "relu6": lambda x: np.clip(x, 0.0, 6.0),
    "hswish": lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0,
    "hsigmoid": lambda x: np.clip(x + 3.0, 0.0, 6.0) / 6.0,
}


def conv2d(x, w, stride, padding, depthwise):
    """x [N, C, H, W], w [O, I, k, k] (depthwise: [C, 1, k, k]) -> [N, O, H', W'], summing one
    shifted, strided view of the padded input per kernel tap."""
    k = w.shape[2]
    n, c, h, wd = x.shape
    oh, ow = fmt.out_size(h, stride), fmt.out_size(wd, stride)
    (top, bottom), (left, right) = fmt.conv_pads(h, stride, k, padding), fmt.conv_pads(wd, stride, k, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    y = np.zeros((n, w.shape[0], oh, ow))
    for i in range(k):
        for j in range(k):
            tap = xp[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
            if depthwise:
                y += tap * w[:, 0, i, j][None, :, None, None]
            else:
                y += np.einsum("nchw,oc->nohw", tap, w[:, :, i, j])
    return y


def forward(path, x_nhwc):
    """Logits [N, classes] (float64) of the model file at `path` for NHWC images."""
    hdr, t = fmt.read_model(path)
    act = "relu" if hdr["act"] == fmt.ACT_RELU else "relu6"
    layers = fmt.layers(hdr["arch"], hdr["alpha"], hdr["channels"], hdr["classes"], act)
    x = np.asarray(x_nhwc, np.float64)
    if x.ndim != 4 or x.shape[1:] != (hdr["height"], hdr["width"], hdr["channels"]):
        raise ValueError(f"input {x.shape}, the model takes N x {hdr['height']} x {hdr['width']} "
                         f"x {hdr['channels']}")
    x = x.transpose(0, 3, 1, 2)
    block, block_in, se_in = -1, None, None
    for i, l in enumerate(layers):
        w = t[f"l{i}.w"].astype(np.float64)
        if w.shape != fmt.weight_shape(l):
            raise ValueError(f"l{i}.w has shape {w.shape}, {l['op']} needs {fmt.weight_shape(l)}")
        b = t[f"l{i}.b"].astype(np.float64) if f"l{i}.b" in t else 0.0
        if l["block"] != block:                 # an inverted-residual block starts here
            block, block_in = l["block"], x
        if l["op"] == "fc":
            if x.ndim == 4:                     # global average pool before the first one
                x = x.mean(axis=(2, 3))
            y = x @ w.T + b
        elif l["op"] in ("se_reduce", "se_expand"):
            if l["op"] == "se_reduce":          # squeeze the depthwise output to one pixel
                se_in = x
                x = x.mean(axis=(2, 3))
            y = x @ w[:, :, 0, 0].T + b
        else:
            y = conv2d(x, w, l["stride"], hdr["padding"], l["op"] == "dw")
            y += np.reshape(b, (-1, 1, 1))
        if f"l{i}.bn.g" in t:
            g, beta, mean, var = (t[f"l{i}.bn.{k}"].astype(np.float64).reshape(-1, 1, 1) for k in "gbmv")
            y = (y - mean) * (g / np.sqrt(var + float(hdr["eps"]))) + beta
        y = ACTIVATIONS[l["act"]](y)
        if l["op"] == "se_expand":              # excite: scale the depthwise output per channel
            y = se_in * y[:, :, None, None]
        if l["residual"]:
            y = y + block_in
        x = y
    expected = {f"l{i}.{k}" for i in range(len(layers)) for k in ("w", "b", "bn.g", "bn.b", "bn.m", "bn.v")}
    if set(t) - expected:
        raise ValueError(f"unexpected tensors {sorted(set(t) - expected)[:4]}")
    return x


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--batch", type=int)
    args = ap.parse_args(argv)
    with open(args.model, "rb") as f:
        hdr = fmt.read_header(f.read(fmt.HDR_SIZE))
    x = np.fromfile(args.input, "<f4")
    per = hdr["height"] * hdr["width"] * hdr["channels"]
    n = args.batch or x.size // per
    if x.size != n * per:
        ap.error(f"{args.input}: {x.size} floats, not {n} images of {per}")
    y = forward(args.model, x.reshape(n, hdr["height"], hdr["width"], hdr["channels"]))
    y.astype("<f4").tofile(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
