#!/usr/bin/python3
"""test_convert.py - tools/mnet_convert.py end to end: PyTorch and ONNX in, mnet out, logits equal.

    test_convert.py MNET_EXE TOOLS_DIR

Builds small seeded models in PyTorch (torchvision V2, tools/mobilenet_v1.py V1), converts them
through every supported route (state_dict; ONNX with BatchNorm folded and kept; TensorFlow-style
Pad nodes; Gemm and MatMul heads), runs `mnet run` and compares with PyTorch's logits
(max |d| <= 1e-4 * max(1, max |ref|), same top-5).  Unsupported graphs must be refused with a
message that names the node.  Prints "N passed, N failed".
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torchvision

MNET, TOOLS = sys.argv[1], sys.argv[2]
sys.path.insert(0, TOOLS)
import mnet_format as fmt  # noqa: E402
from mobilenet_v1 import MobileNetV1  # noqa: E402

CONVERT = os.path.join(TOOLS, "mnet_convert.py")
TMP = tempfile.mkdtemp(prefix="mnet-convert-")
torch.set_num_threads(1)


@torch.no_grad()
def randomize(model, res, seed):
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.25, 0.25)
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def convert(src, dst, *opts, expect_ok=True):
    r = subprocess.run([sys.executable, CONVERT, src, dst, *opts], capture_output=True, text=True)
    if expect_ok and r.returncode != 0:
        raise AssertionError(f"convert failed: {r.stderr}")
    return r


@torch.no_grad()
def check_model(name, model, res, route, *opts):
    x = torch.randn(2, 3, res, res, generator=torch.Generator().manual_seed(5))
    ref = model(x).numpy()
    src = os.path.join(TMP, name + (".pt" if route == "state_dict" else ".onnx"))
    if route == "state_dict":
        torch.save(model.state_dict(), src)
    else:
        kw = dict(opset_version=13, input_names=["input"], output_names=["logits"])
        if route == "onnx_bn":
            torch.onnx.export(model, x[:1], src, do_constant_folding=False,
                              training=torch.onnx.TrainingMode.PRESERVE, **kw)
        else:
            torch.onnx.export(model, x[:1], src, training=torch.onnx.TrainingMode.EVAL, **kw)
    out = os.path.join(TMP, name + ".mnet")
    convert(src, out, *opts)
    inp, logits = os.path.join(TMP, name + ".in"), os.path.join(TMP, name + ".out")
    x.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4").tofile(inp)
    subprocess.run([MNET, "run", out, "--input", inp, "--output", logits, "--batch", "2"], check=True)
    got = np.fromfile(logits, "<f4").reshape(ref.shape)
    d = float(np.abs(got - ref).max())
    bound = 1e-4 * max(1.0, float(np.abs(ref).max()))
    assert d <= bound, f"{name}: max |mnet - torch| {d:.3g} > {bound:.3g}"
    k = min(5, ref.shape[1])
    assert (np.argsort(-got, 1)[:, :k] == np.argsort(-ref, 1)[:, :k]).all(), f"{name}: top-{k} differs"
    with open(out, "rb") as f:
        return fmt.read_header(f.read())


class MatMulHead(nn.Module):
    """V1 whose classifier is x @ W^T + b (exports MatMul + Add instead of Gemm)."""

    def __init__(self, v1):
        super().__init__()
        self.v1 = v1

    def forward(self, x):
        f = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(self.v1.features(x), 1), 1)
        return torch.matmul(f, self.v1.classifier.weight.t()) + self.v1.classifier.bias


def t_v2_state_dict():
    m = randomize(torchvision.models.mobilenet_v2(width_mult=0.5, num_classes=7), 64, 1)
    h = check_model("v2sd", m, 64, "state_dict", "--resolution", "64")
    assert (h["arch"], h["alpha"], h["classes"], h["height"]) == (2, 0.5, 7, 64), h


def t_v2_onnx_folded_and_kept():
    m = randomize(torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=4), 72, 2)
    h1 = check_model("v2onnx", m, 72, "onnx")
    h2 = check_model("v2onnxbn", m, 72, "onnx_bn")
    assert h1["alpha"] == h2["alpha"] == 0.35 and h1["height"] == 72, (h1, h2)


def t_v2_width_1_4():
    m = randomize(torchvision.models.mobilenet_v2(width_mult=1.4, num_classes=3), 40, 3)
    h = check_model("v2wide", m, 40, "onnx")
    assert h["alpha"] == 1.4, h


def t_v1_state_dict_relu():
    m = randomize(MobileNetV1(0.25, 6, act="relu"), 64, 4)
    h = check_model("v1relu", m, 64, "state_dict", "--resolution", "64", "--activation", "relu")
    assert (h["arch"], h["act"]) == (1, fmt.ACT_RELU), h


def t_v1_onnx_tf_padding():
    m = randomize(MobileNetV1(0.5, 5, padding="same"), 96, 5)
    h = check_model("v1same", m, 96, "onnx")
    assert h["padding"] == fmt.PAD_TF_SAME and h["alpha"] == 0.5, h


def t_v1_onnx_matmul_head_odd_res():
    v1 = randomize(MobileNetV1(0.75, 10), 100, 6)
    h = check_model("v1matmul", MatMulHead(v1).eval(), 100, "onnx_bn")
    assert (h["alpha"], h["height"]) == (0.75, 100), h


def t_refuses_unsupported():
    class WithMaxPool(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = MobileNetV1(0.25, 3)

        def forward(self, x):
            return self.net(torch.nn.functional.max_pool2d(x, 1))
    src = os.path.join(TMP, "maxpool.onnx")
    torch.onnx.export(WithMaxPool().eval(), torch.randn(1, 3, 64, 64), src, opset_version=13)
    r = convert(src, os.path.join(TMP, "x.mnet"), expect_ok=False)
    assert r.returncode == 1 and "MaxPool" in r.stderr and "node" in r.stderr, r.stderr
    # a V1 with one 1x1 layer too wide is not MobileNet V1 at any width
    sd = randomize(MobileNetV1(0.5, 3), 64, 7).state_dict()
    sd["features.4.0.weight"] = torch.randn(65, 64, 1, 1)
    src = os.path.join(TMP, "bad.pt")
    torch.save(sd, src)
    r = convert(src, os.path.join(TMP, "y.mnet"), expect_ok=False)
    assert r.returncode == 1 and "mnet_convert" in r.stderr, r.stderr
    with open(src, "wb") as f:
        f.write(b"not a pickle")
    r = convert(src, os.path.join(TMP, "z.mnet"), expect_ok=False)
    assert r.returncode != 0 and r.stderr, r.stderr


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import scripttest
    sys.exit(scripttest.run(globals()))
