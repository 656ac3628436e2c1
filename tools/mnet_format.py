"""mnet_format.py - the mnet model file (docs/FORMAT.md) from Python: architectures, writer, reader.

Shared by tools/mnet_convert.py, tools/mnet_reference.py, tools/make_fixtures.py and the tests.
numpy only.
"""
import struct
import zlib

import numpy as np

MAGIC = b"MNETMODL"
VERSION = 2                 # what the writer writes
READ_VERSIONS = (1, 2)      # version 1: the same layout, architectures 1 and 2 only
HDR_SIZE = 128
ENTRY_SIZE = 96
ARCH_V1, ARCH_V2, ARCH_V3_LARGE, ARCH_V3_SMALL = 1, 2, 3, 4
ARCH_NAMES = {ARCH_V1: "MobileNet V1", ARCH_V2: "MobileNet V2", ARCH_V3_LARGE: "MobileNet V3 Large",
              ARCH_V3_SMALL: "MobileNet V3 Small"}
ACT_RELU6, ACT_RELU = 0, 1
PAD_SYMMETRIC, PAD_TF_SAME = 0, 1
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

V1_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
             (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
V2_BLOCKS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
             (6, 160, 3, 2), (6, 320, 1, 1)]
# V3 bnecks as torchvision's _mobilenet_v3_conf (paper Tables 1 and 2): (in, kernel, expanded,
# out, squeeze-and-excite, nonlinearity, stride), then the last channel count.
V3_LARGE_BLOCKS = [
    (16, 3, 16, 16, False, "RE", 1), (16, 3, 64, 24, False, "RE", 2),
    (24, 3, 72, 24, False, "RE", 1), (24, 5, 72, 40, True, "RE", 2),
    (40, 5, 120, 40, True, "RE", 1), (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2), (80, 3, 200, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1), (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 480, 112, True, "HS", 1), (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2), (160, 5, 960, 160, True, "HS", 1),
    (160, 5, 960, 160, True, "HS", 1)]
V3_SMALL_BLOCKS = [
    (16, 3, 16, 16, True, "RE", 2), (16, 3, 72, 24, False, "RE", 2),
    (24, 3, 88, 24, False, "RE", 1), (24, 5, 96, 40, True, "HS", 2),
    (40, 5, 240, 40, True, "HS", 1), (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1), (48, 5, 144, 48, True, "HS", 1),
    (48, 5, 288, 96, True, "HS", 2), (96, 5, 576, 96, True, "HS", 1),
    (96, 5, 576, 96, True, "HS", 1)]
V3_CONFIG = {ARCH_V3_LARGE: (V3_LARGE_BLOCKS, 1280), ARCH_V3_SMALL: (V3_SMALL_BLOCKS, 1024)}
# torchvision's BatchNorm epsilon per architecture (nn.BatchNorm2d's default for V2, 0.001 for V3);
# a state_dict does not record it.
TORCHVISION_BN_EPS = {ARCH_V1: 1e-5, ARCH_V2: 1e-5, ARCH_V3_LARGE: 1e-3, ARCH_V3_SMALL: 1e-3}


def v1_channels(c, alpha):
    """TF-slim's depth(): max(int(c * alpha), 8)."""
    return max(int(c * alpha), 8)


def make_divisible(v, divisor=8):
    """torchvision's _make_divisible(v, 8)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def layers(arch, alpha, channels=3, classes=1000, act="relu6"):
    """The layer list in execution order, one dict per layer:
      op        'conv3x3' (the stem), 'dw' (depthwise k x k), 'pw' (1x1), 'se_reduce' and
                'se_expand' (squeeze-and-excite 1x1 convolutions on the pooled depthwise output),
                'fc' (fully connected; the global average pool comes before the first one)
      k         kernel size (1 for pw, se_* and fc)
      cin, cout, stride
      act       'relu6', 'relu', 'hswish', 'hsigmoid' or 'none' (V1/V2 use the model's `act`)
      residual  True on a projection whose block input is added to its output
      block     index of the inverted-residual block the layer belongs to (-1 outside blocks)
    """
    out = []

    def add(op, cin, cout, stride=1, k=1, act=act, residual=False, block=-1):
        out.append(dict(op=op, k=k, cin=cin, cout=cout, stride=stride, act=act,
                        residual=residual, block=block))
        return cout

    if arch == ARCH_V1:
        c = add("conv3x3", channels, v1_channels(32, alpha), 2, 3)
        for cout, s in V1_BLOCKS:
            add("dw", c, c, s, 3)
            c = add("pw", c, v1_channels(cout, alpha))
        add("fc", c, classes, act="none")
    elif arch == ARCH_V2:
        c = add("conv3x3", channels, make_divisible(32 * alpha), 2, 3)
        b = 0
        for t, cc, n, s in V2_BLOCKS:
            oc = make_divisible(cc * alpha)
            for i in range(n):
                stride = s if i == 0 else 1
                hidden = c * t
                if t != 1:
                    add("pw", c, hidden, block=b)
                add("dw", hidden, hidden, stride, 3, block=b)
                add("pw", hidden, oc, act="none", residual=(stride == 1 and c == oc), block=b)
                c, b = oc, b + 1
        c = add("pw", c, make_divisible(1280 * max(1.0, alpha)))
        add("fc", c, classes, act="none")
    elif arch in V3_CONFIG:
        blocks, last = V3_CONFIG[arch]
        c = add("conv3x3", channels, make_divisible(16 * alpha), 2, 3, act="hswish")
        for b, (cin, k, exp, cout, se, nl, s) in enumerate(blocks):
            cin, exp, cout = (make_divisible(v * alpha) for v in (cin, exp, cout))
            assert cin == c, "each bneck starts where the previous one ended"
            nl = "relu" if nl == "RE" else "hswish"
            if exp != cin:
                add("pw", cin, exp, act=nl, block=b)
            add("dw", exp, exp, s, k, act=nl, block=b)
            if se:
                sq = make_divisible(exp // 4)
                add("se_reduce", exp, sq, act="relu", block=b)
                add("se_expand", sq, exp, act="hsigmoid", block=b)
            c = add("pw", exp, cout, act="none", residual=(s == 1 and cin == cout), block=b)
        c = add("pw", c, 6 * c, act="hswish")
        c = add("fc", c, make_divisible(last * alpha), act="hswish")
        add("fc", c, classes, act="none")
    else:
        raise ValueError(f"unknown architecture {arch}")
    return out


def weight_shape(layer):
    op, k, cin, cout = layer["op"], layer["k"], layer["cin"], layer["cout"]
    if op == "fc":
        return (cout, cin)
    return (cout, 1 if op == "dw" else cin, k, k)


def macs_params(arch, alpha, height, width, channels=3, classes=1000):
    """Multiply-adds and parameters (weights, plus the biases of fc and se layers)."""
    h, w, macs, params = height, width, 0, 0
    for l in layers(arch, alpha, channels, classes):
        if l["op"] in ("conv3x3", "dw"):
            h, w = out_size(h, l["stride"]), out_size(w, l["stride"])
        n = int(np.prod(weight_shape(l)))
        spatial = l["op"] in ("conv3x3", "dw", "pw")
        params += n + (0 if spatial else l["cout"])
        macs += n * h * w if spatial else n
    return macs, params


ALPHA_CANDIDATES = sorted({round(k * 0.01, 2) for k in range(1, 1601)} |
                          {round(k * 0.001, 3) for k in range(1, 4001)},
                          key=lambda a: (len(repr(a)), round(a * 1000) % 50 != 0, a))


def infer_alpha(arch, shapes, channels=3, classes=1000):
    """The simplest width multiplier whose architecture has exactly these weight shapes (a list,
    one tuple a layer).  Several alphas can build the same network; any of them describes it
    (the loader derives every channel count from alpha), so prefer the fewest decimals, then
    multiples of 0.05, then the smallest.  None when no alpha fits."""
    shapes = [tuple(s) for s in shapes]
    for a in ALPHA_CANDIDATES:
        try:
            got = [weight_shape(l) for l in layers(arch, a, channels, classes)]
        except ValueError:
            continue
        if got == shapes:
            return a
    return None


def write_model(path, arch, alpha, height, width, channels, classes, tensors, act=ACT_RELU6,
                padding=PAD_SYMMETRIC, mean=IMAGENET_MEAN, std=IMAGENET_STD, eps=1e-5):
    """Write a model file (format VERSION).  tensors: list of (name, float32 array), in file
    order."""
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
    if len(data) < HDR_SIZE:
        raise ValueError(f"{len(data)} bytes is shorter than the header")
    f = struct.unpack_from("<8sIIIdIIIIII3f3ffIQQQ", data, 0)
    keys = ["magic", "version", "header_size", "arch", "alpha", "height", "width", "channels",
            "classes", "act", "padding"]
    d = dict(zip(keys, f[:11]))
    d.update(mean=f[11:14], std=f[14:17], eps=f[17], count=f[18], table=f[19], data=f[20],
             file_size=f[21])
    return d


def read_model(path):
    """(header dict, {name: float32 array}) of a model file, version 1 or 2.  Checks what a
    reader needs to trust the tensors (size, checksum, table bounds), not the architecture: the
    C loader is the validator."""
    with open(path, "rb") as f:
        data = f.read()
    hdr = read_header(data)
    if hdr["version"] not in READ_VERSIONS:
        raise ValueError(f"{path}: format version {hdr['version']} (this reader knows {READ_VERSIONS})")
    if hdr["file_size"] != len(data) or len(data) < HDR_SIZE + 4:
        raise ValueError(f"{path}: the header says {hdr['file_size']} bytes, the file has {len(data)}")
    if struct.unpack_from("<I", data, len(data) - 4)[0] != zlib.crc32(data[:-4]) & 0xFFFFFFFF:
        raise ValueError(f"{path}: checksum mismatch")
    tensors = {}
    for i in range(hdr["count"]):
        at = hdr["table"] + i * ENTRY_SIZE
        if at + ENTRY_SIZE > len(data) - 4:
            raise ValueError(f"{path}: tensor table entry {i} lies outside the file")
        name = data[at:at + 64].split(b"\0", 1)[0].decode()
        dtype, ndim, d0, d1, d2, d3, off = struct.unpack_from("<II4IQ", data, at + 64)
        shape = (d0, d1, d2, d3)[:ndim]
        if dtype != 1 or not 1 <= ndim <= 4 or off + 4 * int(np.prod(shape)) > len(data) - 4:
            raise ValueError(f"{path}: tensor {name!r} (entry {i}) is malformed")
        tensors[name] = np.frombuffer(data, "<f4", int(np.prod(shape)), off).reshape(shape)
    return hdr, tensors


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


def same_pads(n, stride, k=3):
    """TF 'SAME' padding (before, after) of a k-wide window on an n-long axis."""
    total = max((out_size(n, stride) - 1) * stride + k - n, 0)
    return total // 2, total - total // 2


def conv_pads(n, stride, k, padding):
    """(before, after) padding of a k-wide convolution on an n-long axis under the header's
    padding rule; the output is out_size(n, stride) long either way."""
    if padding == PAD_TF_SAME:
        return same_pads(n, stride, k)
    return (k - 1) // 2, (k - 1) // 2


def check_finite(name, arr):
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"tensor {name} holds NaN or infinite values")
    return arr


