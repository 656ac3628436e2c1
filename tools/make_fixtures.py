#!/usr/bin/python3
"""make_fixtures.py - PyTorch reference fixtures for mnet's model tests (test/fixtures/).

Per fixture NAME:  NAME.mnet (converted with tools/mnet_convert.py, through a state_dict or an
ONNX export), NAME.in.f32 (3 images, NHWC float32 little-endian, already preprocessed) and
NAME.ref.f32 (PyTorch's logits, [3][10]).  Weights are seeded random with deliberately
non-trivial BatchNorm statistics (a folding bug moves logits by 0.1-1).

    /usr/bin/python3 tools/make_fixtures.py [OUTDIR]      (default test/fixtures)
"""
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mobilenet_v1 import MobileNetV1  # noqa: E402

CLASSES = 10
BATCH = 3

# name, builder, resolution, route, converter options
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
]


@torch.no_grad()
def randomize(model, res, seed):
    """He-initialised weights; BN statistics calibrated on random data, then perturbed."""
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
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
        if route == "state_dict":
            src = os.path.join(tmp, "m.pt")
            torch.save(model.state_dict(), src)
        else:
            src = os.path.join(tmp, "m.onnx")
            kw = dict(opset_version=13, input_names=["input"], output_names=["logits"])
            if route == "onnx_bn":
                torch.onnx.export(model, x[:1], src, do_constant_folding=False,
                                  training=torch.onnx.TrainingMode.PRESERVE, **kw)
            else:
                torch.onnx.export(model, x[:1], src, training=torch.onnx.TrainingMode.EVAL, **kw)
        opts = opts + (["--resolution", str(res)] if route == "state_dict" else [])
        convert(src, os.path.join(out, name + ".mnet"), opts)
    x.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4").tofile(os.path.join(out, name + ".in.f32"))
    y.numpy().astype("<f4").tofile(os.path.join(out, name + ".ref.f32"))
    print(f"{name}: {route}, logits max |y| {float(y.abs().max()):.3f}, top1 {y.argmax(1).tolist()}")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "test", "fixtures")
    os.makedirs(out, exist_ok=True)
    for i, (name, build, res, route, opts) in enumerate(FIXTURES):
        make(name, build, res, route, opts, out, 1000 + 37 * i)


if __name__ == "__main__":
    main()
