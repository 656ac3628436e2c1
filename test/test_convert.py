#!/usr/bin/python3
"""test_convert.py - tools/mnet_convert.py end to end: PyTorch and ONNX in, mnet out, logits equal.

    test_convert.py MNET_EXE TOOLS_DIR        (MNET_EXE "" : the numpy reference only)

Builds small seeded models in PyTorch (torchvision V2 and V3 Large/Small, tools/mobilenet_v1.py
V1; random weights, BatchNorm statistics calibrated then perturbed), converts them through every
supported route (state_dict; ONNX opset 13 and 17 with BatchNorm folded and kept; TensorFlow-style
Pad nodes; Gemm and MatMul heads) and compares PyTorch's logits with the converted file's, run
twice: by tools/mnet_reference.py (numpy, float64) and by `mnet run` (max |d| <= 1e-4 *
max(1, max |ref|), same top-5).  Unsupported graphs and variants must be refused with a message
that names the node or says why.  Prints "N passed, N failed".
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
import mnet_convert  # noqa: E402
import mnet_format as fmt  # noqa: E402
import mnet_reference  # noqa: E402
from make_fixtures import export, randomize  # noqa: E402
from mobilenet_v1 import MobileNetV1  # noqa: E402

CONVERT = os.path.join(TOOLS, "mnet_convert.py")
TMP = tempfile.mkdtemp(prefix="mnet-convert-")
torch.set_num_threads(1)


def convert(src, dst, *opts, expect_ok=True):
    r = subprocess.run([sys.executable, CONVERT, src, dst, *opts], capture_output=True, text=True)
    if expect_ok and r.returncode != 0:
        raise AssertionError(f"convert failed: {r.stderr}")
    return r


def mnet_run(model, inp, logits):
    """Run the model with `mnet run` (batch 2)."""
    cmd = [MNET, "run", model, "--input", inp, "--output", logits, "--batch", "2"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, f"mnet run {model}: {r.stderr}"


def expect_close(what, got, ref):
    d = float(np.abs(got - ref).max())
    bound = 1e-4 * max(1.0, float(np.abs(ref).max()))
    assert d <= bound, f"{what}: max |d| {d:.3g} > {bound:.3g}"
    k = min(5, ref.shape[1])
    assert (np.argsort(-got, 1)[:, :k] == np.argsort(-ref, 1)[:, :k]).all(), f"{what}: top-{k} differs"
    return d


@torch.no_grad()
def check_model(name, model, res, route, *opts):
    """Export `model` by `route` (make_fixtures.export), convert, compare with PyTorch."""
    x = torch.randn(2, 3, res, res, generator=torch.Generator().manual_seed(5))
    ref = model(x).numpy()
    out = os.path.join(TMP, name + ".mnet")
    convert(export(model, x[:1], os.path.join(TMP, name), route), out, *opts)
    nhwc = x.permute(0, 2, 3, 1).contiguous().numpy()
    d_ref = expect_close(f"{name} numpy reference", mnet_reference.forward(out, nhwc), ref)
    line = (f"  {name:17s} {route:10s} max |logit| {np.abs(ref).max():5.2f}, "
            f"max |reference - torch| {d_ref:.2g}")
    if MNET:
        inp, logits = os.path.join(TMP, name + ".in"), os.path.join(TMP, name + ".out")
        nhwc.astype("<f4").tofile(inp)
        mnet_run(out, inp, logits)
        d = expect_close(f"{name} mnet run", np.fromfile(logits, "<f4").reshape(ref.shape), ref)
        line += f", |mnet - torch| {d:.2g}"
    print(line, flush=True)
    with open(out, "rb") as f:
        return fmt.read_header(f.read())


class MatMulHead(nn.Module):
    """A V1 or V3 whose fully connected layers compute x @ W^T + b (exported as MatMul + Add
    instead of Gemm); whatever else the classifier holds (V3's h-swish) runs as it is."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        x = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(self.net.features(x), 1), 1)
        head = self.net.classifier
        for m in head if isinstance(head, nn.Sequential) else [head]:
            x = torch.matmul(x, m.weight.t()) + m.bias if isinstance(m, nn.Linear) else m(x)
        return x


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


V3_ROUTES = ("state_dict", "onnx", "onnx_bn", "onnx17", "onnx17_bn")


def check_v3_every_route(tag, model, res, arch, alpha, classes):
    """One V3 through a state_dict and ONNX opset 13 / 17 with BatchNorm folded and kept."""
    for route in V3_ROUTES:
        opts = ["--resolution", str(res)] if route == "state_dict" else []
        h = check_model(f"{tag}_{route}", model, res, route, *opts)
        got = (h["version"], h["arch"], h["alpha"], h["classes"], h["height"], h["width"], h["act"],
               h["padding"])
        assert got == (2, arch, alpha, classes, res, res, 0, fmt.PAD_SYMMETRIC), (route, got)
        if route.endswith("_bn") or route == "state_dict":   # BatchNorm kept: torchvision's eps
            assert abs(h["eps"] - 1e-3) < 1e-9, (route, h["eps"])


def t_v3_large_every_route_alpha_075():
    m = randomize(torchvision.models.mobilenet_v3_large(width_mult=0.75, num_classes=12), 72, 11)
    check_v3_every_route("v3l075", m, 72, fmt.ARCH_V3_LARGE, 0.75, 12)


def t_v3_small_every_route_odd_res():
    m = randomize(torchvision.models.mobilenet_v3_small(num_classes=1000), 100, 12)
    check_v3_every_route("v3s100", m, 100, fmt.ARCH_V3_SMALL, 1.0, 1000)


def t_v3_large_full_width_state_dict_explicit_arch():
    m = randomize(torchvision.models.mobilenet_v3_large(num_classes=5), 64, 13)
    h = check_model("v3l100", m, 64, "state_dict", "--arch", "v3-large", "--resolution", "64")
    assert (h["arch"], h["alpha"], h["classes"]) == (fmt.ARCH_V3_LARGE, 1.0, 5), h


def t_v3_width_inferred_from_shapes():
    """Every width torchvision builds is recognised: the inferred architecture and alpha give
    layer for layer the state_dict's shapes (no inference needed: shapes only)."""
    for ctor, arch in ((torchvision.models.mobilenet_v3_large, fmt.ARCH_V3_LARGE),
                       (torchvision.models.mobilenet_v3_small, fmt.ARCH_V3_SMALL)):
        for alpha in (0.1, 0.2, 0.35, 0.6, 0.85, 1.3, 2.0):
            recs = mnet_convert.from_state_dict(ctor(width_mult=alpha, num_classes=3).state_dict())
            got_arch, got_alpha = mnet_convert.identify(recs, None, None)
            want = [fmt.weight_shape(l) for l in fmt.layers(got_arch, got_alpha, 3, 3)]
            assert got_arch == arch and want == [r["w"].shape for r in recs], (arch, alpha, got_alpha)


def t_v3_onnx_matmul_heads():
    v3 = randomize(torchvision.models.mobilenet_v3_large(width_mult=0.5, num_classes=6), 80, 14)
    for route in ("onnx_bn", "onnx17"):
        h = check_model(f"v3lmatmul_{route}", MatMulHead(v3).eval(), 80, route)
        assert (h["arch"], h["alpha"], h["classes"]) == (fmt.ARCH_V3_LARGE, 0.5, 6), h


def t_v3_refuses_variants_and_foreign_ops():
    def refused(src, *opts):
        r = convert(src, os.path.join(TMP, "refused.mnet"), *opts, expect_ok=False)
        assert r.returncode == 1 and r.stderr.startswith("mnet_convert: "), r.stderr
        return r.stderr
    x = torch.randn(1, 3, 64, 64)
    # torchvision's reduced tail halves the last blocks: no width multiplier reproduces it
    m = randomize(torchvision.models.mobilenet_v3_large(reduced_tail=True, num_classes=4), 64, 21)
    err = refused(export(m, x, os.path.join(TMP, "v3tail"), "state_dict"))
    assert "no width multiplier" in err and "reduced_tail" in err, err
    err = refused(export(m, x, os.path.join(TMP, "v3tail"), "onnx17"))
    assert "no width multiplier" in err, err
    # dilated: the same tensors as the plain model, refused from ONNX with the node's name
    m = randomize(torchvision.models.mobilenet_v3_small(dilated=True, num_classes=4), 64, 22)
    err = refused(export(m, x, os.path.join(TMP, "v3dil"), "onnx"))
    assert "dilated" in err and "node '" in err, err
    # h-swish replaced by SiLU: the Sigmoid node is named
    m = randomize(torchvision.models.mobilenet_v3_small(num_classes=4), 64, 23)
    m.features[0][2] = nn.SiLU()
    err = refused(export(m, x, os.path.join(TMP, "v3silu"), "onnx17"))
    assert "Sigmoid" in err and "unsupported operator" in err and "node '" in err, err
    # squeeze-and-excite scaled by a sigmoid instead of the h-sigmoid
    m = randomize(torchvision.models.mobilenet_v3_small(num_classes=4), 64, 24)
    m.features[1].block[1].scale_activation = nn.Sigmoid()
    err = refused(export(m, x, os.path.join(TMP, "v3sesig"), "onnx_bn"))
    assert "Sigmoid" in err and "node '" in err, err
    # ReLU where V3 Small has h-swish: the layer is named
    m = randomize(torchvision.models.mobilenet_v3_small(num_classes=4), 64, 26)
    m.features[4].block[1][2] = nn.ReLU()
    err = refused(export(m, x, os.path.join(TMP, "v3relu"), "onnx17"))
    assert "features.4" in err and "activation relu" in err and "V3 Small" in err, err
    # a state_dict converted as the other V3, or given a V1/V2 activation
    sd = export(randomize(torchvision.models.mobilenet_v3_small(num_classes=4), 64, 25), x,
                os.path.join(TMP, "v3s"), "state_dict")
    err = refused(sd, "--arch", "v3-large")
    assert "MobileNet V3 Large" in err, err
    err = refused(sd, "--activation", "relu")
    assert "--activation" in err, err


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
