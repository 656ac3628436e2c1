"""mnet_format.py - the mnet model file (docs/FORMAT.md) from Python: architectures, writer, reader.

Shared by tools/mnet_convert.py, tools/make_fixtures.py and the tests.  numpy only.
"""
import struct
import zlib

import numpy as np

MAGIC = b"MNETMODL"
VERSION = 1
HDR_SIZE = 128
ENTRY_SIZE = 96
ARCH_V1, ARCH_V2 = 1, 2
ACT_RELU6, ACT_RELU = 0, 1
PAD_SYMMETRIC, PAD_TF_SAME = 0, 1
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

V1_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
             (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
V2_BLOCKS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
             (6, 160, 3, 2), (6, 320, 1, 1)]


def v1_channels(c, alpha):
    """TF-slim's depth(): max(int(c * alpha), 8)."""
    return max(int(c * alpha), 8)


def make_divisible(v, divisor=8):
    """torchvision's _make_divisible(v, 8)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def layers(arch, alpha, channels=3, classes=1000):
    """The layer list: dicts with op ('conv3x3', 'dw', 'pw', 'fc'), cin, cout, stride, act
    (True if followed by the model's activation) and res (residual add)."""
    out = []

    def add(op, cin, cout, stride=1, act=True, res=False):
        out.append(dict(op=op, cin=cin, cout=cout, stride=stride, act=act, res=res))
        return cout

    if arch == ARCH_V1:
        c = add("conv3x3", channels, v1_channels(32, alpha), 2)
        for cout, s in V1_BLOCKS:
            add("dw", c, c, s)
            c = add("pw", c, v1_channels(cout, alpha))
    elif arch == ARCH_V2:
        c = add("conv3x3", channels, make_divisible(32 * alpha), 2)
        for t, cc, n, s in V2_BLOCKS:
            oc = make_divisible(cc * alpha)
            for i in range(n):
                stride = s if i == 0 else 1
                hidden = c * t
                if t != 1:
                    add("pw", c, hidden)
                add("dw", hidden, hidden, stride)
                add("pw", hidden, oc, act=False, res=(stride == 1 and c == oc))
                c = oc
        c = add("pw", c, make_divisible(1280 * max(1.0, alpha)))
    else:
        raise ValueError(f"unknown architecture {arch}")
    add("fc", c, classes, act=False)
    return out


def weight_shape(layer):
    op, cin, cout = layer["op"], layer["cin"], layer["cout"]
    return {"conv3x3": (cout, cin, 3, 3), "dw": (cout, 1, 3, 3), "pw": (cout, cin, 1, 1),
            "fc": (cout, cin)}[op]


def macs_params(arch, alpha, height, width, channels=3, classes=1000):
    h, w, macs, params = height, width, 0, 0
    for l in layers(arch, alpha, channels, classes):
        if l["op"] in ("conv3x3", "dw"):
            h, w = -(-h // l["stride"]), -(-w // l["stride"])
        n = int(np.prod(weight_shape(l)))
        params += n + (l["cout"] if l["op"] == "fc" else 0)
        macs += n if l["op"] == "fc" else n * h * w
    return macs, params


def infer_alpha(arch, channel_signature, channels=3, classes=1000):
    """The simplest width multiplier whose architecture has exactly these channel counts
    (a list of every layer's cout).  Several alphas can build the same network; any of them
    describes it, so prefer the fewest decimals, then multiples of 0.05, then the smallest."""
    candidates = sorted({round(k * 0.01, 2) for k in range(1, 1601)} |
                        {round(k * 0.001, 3) for k in range(1, 4001)},
                        key=lambda a: (len(repr(a)), round(a * 1000) % 50 != 0, a))
    for a in candidates:
        try:
            if [l["cout"] for l in layers(arch, a, channels, classes)] == list(channel_signature):
                return a
        except ValueError:
            pass
    return None


def write_model(path, arch, alpha, height, width, channels, classes, tensors, act=ACT_RELU6,
                padding=PAD_SYMMETRIC, mean=IMAGENET_MEAN, std=IMAGENET_STD, eps=1e-5):
    """Write a model file.  tensors: list of (name, float32 array), in file order."""
    count = len(tensors)
    data_offset = (HDR_SIZE + count * ENTRY_SIZE + 63) // 64 * 64
    table = bytearray()
    blobs = []
    at = data_offset
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr, dtype="<f4")
        nb = name.encode()
        if not 0 < len(nb) < 64:
            raise ValueError(f"tensor name {name!r} must be 1..63 bytes")
        shape = list(arr.shape) + [0] * (4 - arr.ndim)
        table += nb.ljust(64, b"\0") + struct.pack("<II4IQ", 1, arr.ndim, *shape, at)
        blob = arr.tobytes()
        blob += b"\0" * (-len(blob) % 64)
        blobs.append(blob)
        at += len(blob)
    file_size = at + 4
    hdr = struct.pack("<8sIIIdIIIIII3f3ffIQQQ", MAGIC, VERSION, HDR_SIZE, arch, float(alpha),
                      height, width, channels, classes, act, padding, *mean, *std, eps, count,
                      HDR_SIZE, data_offset, file_size)
    hdr += b"\0" * (HDR_SIZE - len(hdr))
    body = hdr + bytes(table)
    body += b"\0" * (data_offset - len(body)) + b"".join(blobs)
    body += struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(body)
    return len(body)


def read_header(data):
    """The header fields of a model file image, as a dict (no validation beyond the magic)."""
    if data[:8] != MAGIC:
        raise ValueError("not an mnet model file")
    f = struct.unpack_from("<8sIIIdIIIIII3f3ffIQQQ", data, 0)
    keys = ["magic", "version", "header_size", "arch", "alpha", "height", "width", "channels",
            "classes", "act", "padding"]
    d = dict(zip(keys, f[:11]))
    d.update(mean=f[11:14], std=f[14:17], eps=f[17], count=f[18], table=f[19], data=f[20],
             file_size=f[21])
    return d


def layer_tensors(index, layer, w, b=None, bn=None):
    """(name, array) pairs for one layer: weight, optional bias, optional (g, b, m, v)."""
    want = weight_shape(layer)
    w = np.asarray(w, dtype=np.float32).reshape(w.shape)
    if tuple(w.shape) != want:
        raise ValueError(f"layer {index} ({layer['op']} {layer['cin']}->{layer['cout']}): "
                         f"weight shape {tuple(w.shape)}, expected {want}")
    out = [(f"l{index}.w", w)]
    if b is not None:
        out.append((f"l{index}.b", np.asarray(b, dtype=np.float32).reshape(-1)))
    if bn is not None:
        for key, arr in zip(("g", "b", "m", "v"), bn):
            out.append((f"l{index}.bn.{key}", np.asarray(arr, dtype=np.float32).reshape(-1)))
    return out


def out_size(n, stride):
    return -(-n // stride)


def same_pads(n, stride):
    """TF 'SAME' padding (before, after) of a 3x3 window on an n-long axis."""
    total = max((out_size(n, stride) - 1) * stride + 3 - n, 0)
    return total // 2, total - total // 2


def check_finite(name, arr):
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"tensor {name} holds NaN or infinite values")
    return arr


