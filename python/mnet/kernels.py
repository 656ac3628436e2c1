"""The public kernels on numpy arrays.  Shapes are checked before any C call; inputs are
converted to C-contiguous float32; every call takes isa="auto"|"scalar"|"avx2"|"avx512"|"neon"."""
import ctypes
import math

import numpy as np

from ._lib import LIB, ConvParams, check, isa_code

_INF = math.inf


def _f32(name, a, ndim=None):
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
    if ndim is not None and a.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {list(a.shape)}")
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    return np.ascontiguousarray(a, dtype=np.float32)


def _ptr(a):
    return None if a is None else a.ctypes.data


def _params(stride, pads, clamp):
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, not {stride!r}")
    pads = tuple(pads)
    if len(pads) != 4 or any(p not in (0, 1) for p in pads):
        raise ValueError(f"pads must be 4 values (top, left, bottom, right) of 0 or 1, not {pads!r}")
    lo, hi = (float(v) for v in clamp)
    return ConvParams(stride, pads[0], pads[1], pads[2], pads[3], lo, hi)


def _out_hw(h, w, stride, pads):
    ph, pw = h + pads[0] + pads[2], w + pads[1] + pads[3]
    if ph < 3 or pw < 3:
        raise ValueError(f"padded input {ph}x{pw} is smaller than the 3x3 kernel")
    return (ph - 3) // stride + 1, (pw - 3) // stride + 1


def _nhwc(x):
    x = _f32("x", x, (3, 4))
    return (x[None], True) if x.ndim == 3 else (x, False)


def dwconv3x3(x, w, bias=None, stride=1, pads=(1, 1, 1, 1), clamp=(-_INF, _INF), isa="auto"):
    """Depthwise 3x3: x [n, h, w, c] (or [h, w, c]), w [3, 3, c], bias [c] -> [n, oh, ow, c]."""
    x, single = _nhwc(x)
    n, h, wd, c = x.shape
    w = _f32("w", w, 3)
    if w.shape != (3, 3, c):
        raise ValueError(f"w must be [3, 3, {c}], got {list(w.shape)}")
    if bias is not None:
        bias = _f32("bias", bias, 1)
        if bias.shape != (c,):
            raise ValueError(f"bias must be [{c}], got {list(bias.shape)}")
    p = _params(stride, pads, clamp)
    oh, ow = _out_hw(h, wd, stride, tuple(pads))
    out = np.empty((n, oh, ow, c), np.float32)
    check(LIB.mnet_dwconv3x3_f32(isa_code(isa), n, h, wd, c, x.ctypes.data, w.ctypes.data,
                                 _ptr(bias), ctypes.byref(p), out.ctypes.data))
    return out[0] if single else out


def conv3x3(x, w, bias=None, stride=1, pads=(1, 1, 1, 1), clamp=(-_INF, _INF), isa="auto"):
    """Full 3x3 convolution: x [n, h, w, cin], w [cout, 3, 3, cin], bias [cout] -> NHWC."""
    x, single = _nhwc(x)
    n, h, wd, cin = x.shape
    w = _f32("w", w, 4)
    if w.shape[1:] != (3, 3, cin):
        raise ValueError(f"w must be [cout, 3, 3, {cin}], got {list(w.shape)}")
    cout = w.shape[0]
    if bias is not None:
        bias = _f32("bias", bias, 1)
        if bias.shape != (cout,):
            raise ValueError(f"bias must be [{cout}], got {list(bias.shape)}")
    p = _params(stride, pads, clamp)
    oh, ow = _out_hw(h, wd, stride, tuple(pads))
    out = np.empty((n, oh, ow, cout), np.float32)
    check(LIB.mnet_conv3x3_f32(isa_code(isa), n, h, wd, cin, cout, x.ctypes.data, w.ctypes.data,
                               _ptr(bias), ctypes.byref(p), out.ctypes.data))
    return out[0] if single else out


def gemm(a, b, bias=None, clamp=(-_INF, _INF), isa="auto"):
    """clamp(a [m, k] @ b [k, n] + bias [n]) -> [m, n]."""
    a, b = _f32("a", a, 2), _f32("b", b, 2)
    m, k = a.shape
    if b.shape[0] != k:
        raise ValueError(f"a is [{m}, {k}] but b is {list(b.shape)}: inner sizes differ")
    n = b.shape[1]
    if bias is not None:
        bias = _f32("bias", bias, 1)
        if bias.shape != (n,):
            raise ValueError(f"bias must be [{n}], got {list(bias.shape)}")
    lo, hi = (float(v) for v in clamp)
    out = np.empty((m, n), np.float32)
    check(LIB.mnet_gemm_f32(isa_code(isa), m, n, k, a.ctypes.data, b.ctypes.data, _ptr(bias),
                            lo, hi, out.ctypes.data))
    return out


def bn_relu6(x, scale, shift, isa="auto"):
    """min(max(x * scale + shift, 0), 6) over the last axis (channels) of x."""
    x = _f32("x", x)
    c = x.shape[-1]
    scale, shift = _f32("scale", scale, 1), _f32("shift", shift, 1)
    if scale.shape != (c,) or shift.shape != (c,):
        raise ValueError(f"scale and shift must be [{c}], got {list(scale.shape)}, {list(shift.shape)}")
    out = np.empty_like(x)
    check(LIB.mnet_bn_relu6_f32(isa_code(isa), x.size // c, c, x.ctypes.data, scale.ctypes.data,
                                shift.ctypes.data, out.ctypes.data))
    return out


def global_avgpool(x, isa="auto"):
    """Mean over h and w: [n, h, w, c] (or [h, w, c]) -> [n, c] (or [c])."""
    x, single = _nhwc(x)
    n, h, w, c = x.shape
    out = np.empty((n, c), np.float32)
    check(LIB.mnet_global_avgpool_f32(isa_code(isa), n, h, w, c, x.ctypes.data, out.ctypes.data))
    return out[0] if single else out


def add(a, b, clamp=(-_INF, _INF), isa="auto"):
    """clamp(a + b), same shapes."""
    a, b = _f32("a", a), _f32("b", b)
    if a.shape != b.shape:
        raise ValueError(f"a and b differ in shape: {list(a.shape)} vs {list(b.shape)}")
    lo, hi = (float(v) for v in clamp)
    out = np.empty_like(a)
    check(LIB.mnet_add_f32(isa_code(isa), a.size, a.ctypes.data, b.ctypes.data, lo, hi,
                           out.ctypes.data))
    return out


def softmax(x, isa="auto"):
    """Row-wise softmax over the last axis: [n, c] or [c]."""
    x = _f32("x", x, (1, 2))
    rows = x.reshape(-1, x.shape[-1])
    out = np.empty_like(rows)
    check(LIB.mnet_softmax_f32(isa_code(isa), rows.shape[0], rows.shape[1], rows.ctypes.data,
                               out.ctypes.data))
    return out.reshape(x.shape)
