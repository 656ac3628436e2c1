#!/usr/bin/python3
"""make_fixtures.py - PyTorch reference fixtures for mnet's model tests (test/fixtures/).

Per fixture NAME:  NAME.mnet (converted with tools/mnet_convert.py, through a state_dict or an
ONNX export), NAME.in.f32 (3 images, NHWC float32 little-endian, already preprocessed) and
NAME.ref.f32 (PyTorch's logits, [3][10]).  Weights are seeded random with deliberately
non-trivial BatchNorm statistics (a folding bug moves logits by 0.1-1).  Each converted file is
also run through tools/mnet_reference.py, which must agree with PyTorch.

    /usr/bin/python3 tools/make_fixtures.py [OUTDIR [NAME...]]   (default test/fixtures, all)

The V1/V2 fixtures were written as format version 1 files and are kept so (the runtime must go
on reading version 1): regenerate only the ones you change, by name.
"""
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn as nn
import torchvision

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mnet_reference  # noqa: E402
from mobilenet_v1 import MobileNetV1  # noqa: E402

CLASSES = 10
BATCH = 3

# name, builder, resolution, route (see export()), converter options
FIXTURES = [
    ("v2_a035_r96", lambda: torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=CLASSES),
     96, "state_dict", []),
    ("v2_a100_r150", lambda: torchvision.models.mobilenet_v2(width_mult=1.0, num_classes=CLASSES),
     150, "onnx", []),
    ("v1_a025_r128_same", lambda: MobileNetV1(0.25, CLASSES, padding="same"),
     128, "state_dict", ["--padding", "same"]),
    ("v1_a050_r224", lambda: MobileNetV1(0.5, CLASSES), 224, "onnx_bn", []),
    ("v1_a025_r112_relu", lambda: MobileNetV1(0.25, CLASSES, act="relu"),
     112, "state_dict", ["--activation", "relu"]),
    # V3: Small at full width (6.2 MB), Large at 0.25 (1.3 MB; at 1.0 it would be 17 MB), under
    # 8 MB with the inputs.  72 and 100 are no multiples of 32: stride-2 layers meet odd sizes
    # (9 and 5; 25, 13 and 7).
    ("v3s_a100_r72", lambda: torchvision.models.mobilenet_v3_small(num_classes=CLASSES),
     72, "state_dict", []),
    ("v3l_a025_r100", lambda: torchvision.models.mobilenet_v3_large(width_mult=0.25, num_classes=CLASSES),
     100, "onnx17_bn", []),
    # Each V3 at a second resolution: Large at 160 (ONNX opset 13, h-swish as HardSigmoid * Mul)
    # and Small at 0.5 width at 193 (odd: every stride-2 layer meets an odd size).
    ("v3l_a025_r160", lambda: torchvision.models.mobilenet_v3_large(width_mult=0.25, num_classes=CLASSES),
     160, "onnx", []),
    ("v3s_a050_r193", lambda: torchvision.models.mobilenet_v3_small(width_mult=0.5, num_classes=CLASSES),
     193, "state_dict", []),
]


@torch.no_grad()
def randomize(model, res, seed):
    """He-initialised weights; BN statistics calibrated on random data, then perturbed."""
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:            # V3's squeeze-and-excite convolutions
                nn.init.uniform_(m.bias, -0.1, 0.1)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 1.0 / m.in_features ** 0.5)
            nn.init.uniform_(m.bias, -0.1, 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.25, 0.25)
            m.reset_running_stats()
            m.momentum = None
    model.train()
    model(torch.randn(4, 3, res, res))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean += 0.2 * torch.randn(m.num_features) * m.running_var.sqrt()
            m.running_var *= torch.empty(m.num_features).uniform_(0.6, 1.6)
    return model.eval()


def export(model, x, base, route):
    """Write `model` for the converter: route 'state_dict' (base.pt) or 'onnx[OPSET][_bn]'
    (base.onnx, traced on x; opset 13 unless given; _bn keeps the BatchNormalization nodes,
    otherwise the exporter folds them into the convolutions).  Returns the path."""
    if route == "state_dict":
        torch.save(model.state_dict(), base + ".pt")
        return base + ".pt"
    opset = int(route[4:].split("_")[0] or 13)
    kw = dict(opset_version=opset, input_names=["input"], output_names=["logits"])
    if route.endswith("_bn"):
        torch.onnx.export(model, x, base + ".onnx", do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE, **kw)
    else:
        torch.onnx.export(model, x, base + ".onnx", training=torch.onnx.TrainingMode.EVAL, **kw)
    return base + ".onnx"


def convert(src, dst, opts):
    subprocess.run([sys.executable, os.path.join(HERE, "mnet_convert.py"), src, dst] + opts,
                   check=True, stdout=subprocess.DEVNULL)


@torch.no_grad()
def make(name, build, res, route, opts, out, seed):
    torch.set_num_threads(1)
    for attempt in range(20):
        model = randomize(build(), res, seed + attempt)
        g = torch.Generator().manual_seed(seed + 100 + attempt)
        x = torch.randn(BATCH, 3, res, res, generator=g)
        y = model(x)
        # Reject draws whose top-5 has near-ties: identical top-5 must be a fair requirement.
        top = torch.sort(y, dim=1, descending=True).values[:, :6]
        if float((top[:, :-1] - top[:, 1:]).min()) > 2e-3 * max(1.0, float(y.abs().max())):
            break
    with tempfile.TemporaryDirectory() as tmp:
        src = export(model, x[:1], os.path.join(tmp, "m"), route)
        opts = opts + (["--resolution", str(res)] if route == "state_dict" else [])
        convert(src, os.path.join(out, name + ".mnet"), opts)
    nhwc = x.permute(0, 2, 3, 1).contiguous().numpy()
    nhwc.astype("<f4").tofile(os.path.join(out, name + ".in.f32"))
    y.numpy().astype("<f4").tofile(os.path.join(out, name + ".ref.f32"))
    d = float(np.abs(mnet_reference.forward(os.path.join(out, name + ".mnet"), nhwc) - y.numpy()).max())
    if d > 1e-4 * max(1.0, float(y.abs().max())):
        raise SystemExit(f"{name}: the file's numpy reference is {d:.3g} away from PyTorch")
    print(f"{name}: {route}, logits max |y| {float(y.abs().max()):.3f}, top1 {y.argmax(1).tolist()}, "
          f"max |reference - PyTorch| {d:.2g}, {os.path.getsize(os.path.join(out, name + '.mnet'))} bytes")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "test", "fixtures")
    names = sys.argv[2:]
    unknown = set(names) - {f[0] for f in FIXTURES}
    if unknown:
        raise SystemExit(f"unknown fixtures {sorted(unknown)}")
    os.makedirs(out, exist_ok=True)
    for i, (name, build, res, route, opts) in enumerate(FIXTURES):
        if not names or name in names:
            make(name, build, res, route, opts, out, 1000 + 37 * i)


if __name__ == "__main__":
    main()
