"""pytest suite for the Python package (python/mnet): every kernel binding against a numpy
reference on every available ISA, models and contexts, the bundled Fashion-MNIST model against
the mnet command, bad inputs, and two threads running in parallel.

    MNET_LIBRARY=build/libmnet.so.0 PYTHONPATH=python MNET_EXE=build/mnet /usr/bin/python3 -m pytest test/python
"""
import gzip
import math
import os
import subprocess
import threading

import numpy as np
import pytest

import mnet
from mnet import kernels as K

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FASHION = os.path.join(ROOT, "tools", "fashion-mnist")
FIXTURES = os.path.join(ROOT, "test", "fixtures")
ISAS = [i for i in ("scalar", "avx2", "avx512", "neon", "auto") if mnet.isa_available(i)]
RNG = np.random.default_rng(1234)


def close(got, ref, k=1, sumabs=None):
    """|got - ref| <= 1e-6 + (k + 2) * 2e-7 * sum|terms| (the C suite's tolerance)."""
    scale = np.abs(ref) if sumabs is None else sumabs
    assert got.shape == ref.shape
    assert np.all(np.abs(got - ref) <= 1e-6 + (k + 2) * 2e-7 * (scale + 1.0)), \
        float(np.max(np.abs(got - ref)))


# ---- numpy references -------------------------------------------------------------------
def ref_conv(x, w, bias, stride, pads, clamp, depthwise):
    """x [n,h,w,cin]; depthwise w [3,3,c], else w [cout,3,3,cin]."""
    t, l, b, r = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (t, b), (l, r), (0, 0)))
    n, hp, wp, cin = xp.shape
    oh, ow = (hp - 3) // stride + 1, (wp - 3) // stride + 1
    cout = cin if depthwise else w.shape[0]
    out = np.zeros((n, oh, ow, cout)) + (0 if bias is None else bias.astype(np.float64))
    for ky in range(3):
        for kx in range(3):
            patch = xp[:, ky:ky + stride * (oh - 1) + 1:stride, kx:kx + stride * (ow - 1) + 1:stride, :]
            if depthwise:
                out += patch * w[ky, kx].astype(np.float64)
            else:
                out += patch @ w[:, ky, kx, :].astype(np.float64).T
    return np.clip(out, *clamp).astype(np.float32)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("c,h,w,stride,pads", [(1, 5, 7, 1, (1, 1, 1, 1)), (13, 4, 4, 2, (0, 0, 1, 1)),
                                               (32, 9, 6, 2, (1, 1, 1, 1)), (17, 3, 3, 1, (0, 1, 0, 1))])
def test_dwconv3x3(isa, c, h, w, stride, pads):
    x = RNG.standard_normal((2, h, w, c)).astype(np.float32)
    wt = RNG.standard_normal((3, 3, c)).astype(np.float32)
    bias = RNG.standard_normal(c).astype(np.float32)
    for clamp, b in (((-math.inf, math.inf), bias), ((0.0, 6.0), None), ((-0.5, 0.5), bias)):
        got = K.dwconv3x3(x, wt, b, stride, pads, clamp, isa)
        close(got, ref_conv(x, wt, b, stride, pads, clamp, True), 9)
    close(K.dwconv3x3(x[0], wt, isa=isa), ref_conv(x[:1], wt, None, 1, (1, 1, 1, 1), (-math.inf, math.inf), True)[0], 9)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cin,cout,stride", [(3, 32, 2), (1, 5, 1), (4, 17, 2)])
def test_conv3x3(isa, cin, cout, stride):
    x = RNG.standard_normal((1, 9, 8, cin)).astype(np.float32)
    wt = RNG.standard_normal((cout, 3, 3, cin)).astype(np.float32)
    bias = RNG.standard_normal(cout).astype(np.float32)
    got = K.conv3x3(x, wt, bias, stride, (1, 1, 1, 1), (0.0, 6.0), isa)
    close(got, ref_conv(x, wt, bias, stride, (1, 1, 1, 1), (0.0, 6.0), False), 9 * cin, None)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (7, 17, 5), (49, 64, 128), (13, 33, 300)])
def test_gemm(isa, m, n, k):
    a = RNG.standard_normal((m, k)).astype(np.float32)
    b = RNG.standard_normal((k, n)).astype(np.float32)
    bias = RNG.standard_normal(n).astype(np.float32)
    ref = np.clip(a.astype(np.float64) @ b + bias, -1.0, 2.0)
    sumabs = np.abs(a.astype(np.float64)) @ np.abs(b) + np.abs(bias)
    close(K.gemm(a, b, bias, (-1.0, 2.0), isa), ref.astype(np.float32), k, sumabs)
    close(K.gemm(a, b, isa=isa), (a.astype(np.float64) @ b).astype(np.float32), k,
          np.abs(a.astype(np.float64)) @ np.abs(b))


@pytest.mark.parametrize("isa", ISAS)
def test_elementwise(isa):
    x = (RNG.standard_normal((3, 5, 11)) * 4).astype(np.float32)
    scale, shift = RNG.standard_normal(11).astype(np.float32), RNG.standard_normal(11).astype(np.float32)
    close(K.bn_relu6(x, scale, shift, isa), np.clip(x * scale + shift, 0, 6))
    y = RNG.standard_normal(x.shape).astype(np.float32)
    close(K.add(x, y, (-1.0, 1.0), isa), np.clip(x + y, -1, 1))
    close(K.global_avgpool(x[None], isa), x.mean(axis=(0, 1))[None], 15)
    logits = (RNG.standard_normal((4, 1000)) * 50).astype(np.float32)   # large: needs the max shift
    ref = np.exp(logits - logits.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    got = K.softmax(logits, isa)
    assert np.allclose(got, ref, rtol=1e-5, atol=1e-7) and np.allclose(got.sum(1), 1, atol=1e-5)


def test_kernel_bad_inputs_raise():
    x = np.zeros((1, 4, 4, 3), np.float32)
    with pytest.raises(ValueError):
        K.dwconv3x3(x, np.zeros((3, 3, 4), np.float32))          # channel mismatch
    with pytest.raises(ValueError):
        K.dwconv3x3(x, np.zeros((3, 3, 3), np.float32), stride=3)
    with pytest.raises(ValueError):
        K.dwconv3x3(np.zeros((2, 2), np.float32), np.zeros((3, 3, 2), np.float32))   # rank
    with pytest.raises(ValueError):
        K.dwconv3x3(np.zeros((1, 1, 1, 3), np.float32), np.zeros((3, 3, 3), np.float32), pads=(0, 0, 0, 0))
    with pytest.raises(ValueError):
        K.gemm(np.zeros((2, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError):
        K.gemm(np.array([["a"]]), np.zeros((1, 1)))
    with pytest.raises(ValueError):
        K.softmax(np.zeros((0,), np.float32))
    with pytest.raises(ValueError):
        K.add(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError):
        K.gemm(np.zeros((2, 2)), np.zeros((2, 2)), isa="sse")
    with pytest.raises(mnet.Error) as e:
        K.gemm(np.zeros((2, 2)), np.zeros((2, 2)), clamp=(1.0, -1.0))   # the library refuses it
    assert e.value.status == "MNET_ERR_ARG" and "mnet_gemm_f32" in e.value.detail
    unavailable = [i for i in ("avx2", "avx512", "neon") if not mnet.isa_available(i)]
    with pytest.raises(mnet.Error) as e:
        K.add(np.zeros(3), np.zeros(3), isa=unavailable[0])
    assert e.value.status == "MNET_ERR_UNSUPPORTED"


# ---- models and contexts ----------------------------------------------------------------
def test_version_and_isa():
    assert mnet.version().count(".") == 2
    assert mnet.isa_selected() in ("scalar", "avx2", "avx512", "neon")
    assert mnet.isa_available("scalar") and mnet.isa_available(mnet.isa_selected())
    with pytest.raises(ValueError):
        mnet.isa_available("mmx")


def test_fixture_matches_pytorch_and_batch_shapes():
    m = mnet.Model.load(os.path.join(FIXTURES, "v2_a035_r96.mnet"))
    assert m.info.arch == "v2" and m.info.alpha == 0.35 and m.info.num_classes == 10
    assert (m.info.height, m.info.width, m.info.channels) == (96, 96, 3) and m.info.layers == 53
    x = np.fromfile(os.path.join(FIXTURES, "v2_a035_r96.in.f32"), "<f4").reshape(3, 96, 96, 3)
    ref = np.fromfile(os.path.join(FIXTURES, "v2_a035_r96.ref.f32"), "<f4").reshape(3, 10)
    for isa in ISAS:
        with m.context(threads=2, isa=isa) as ctx:
            y = ctx.run(x)
            assert y.shape == (3, 10) and np.abs(y - ref).max() <= 1e-4 * max(1, np.abs(ref).max())
            y1 = ctx.run(x[1])                                      # one [h, w, c] image
            assert y1.shape == (1, 10) and np.array_equal(y1[0], y[1])
            yf = ctx.run(np.asfortranarray(x.astype(np.float64)))  # converted
            assert np.array_equal(yf, y)
    m.close()
    m.close()                                                        # idempotent


def test_from_bytes_and_random():
    data = open(os.path.join(FIXTURES, "v1_a025_r112_relu.mnet"), "rb").read()
    m = mnet.Model.from_bytes(bytearray(data))
    assert m.info.arch == "v1" and m.info.alpha == 0.25
    r = mnet.Model.random("v1", alpha=0.5, resolution=64, num_classes=7, seed=3)
    assert r.info.num_classes == 7 and r.info.height == 64 and r.info.params > 0 and r.info.macs > 0
    with r.context() as ctx:
        assert np.isfinite(ctx.run(np.zeros((2, 64, 64, 3), np.float32))).all()
    for arch, layers in (("v3-large", 64), ("v3-small", 54)):
        v3 = mnet.Model.random(arch, alpha=1.0, resolution=48, num_classes=5, seed=1)
        assert v3.info.arch == arch and v3.info.layers == layers
        with v3.context() as ctx:
            y = ctx.run(np.random.default_rng(0).standard_normal((1, 48, 48, 3), np.float32))
            assert y.shape == (1, 5) and np.isfinite(y).all() and np.ptp(y) > 0


def test_max_batch():
    """max_batch allocates for that many images up front; the logits do not change, and a
    non-positive or non-int value is refused before anything is created."""
    m = mnet.Model.random("v2", alpha=0.35, resolution=96, num_classes=10, seed=4)
    x = np.random.default_rng(2).standard_normal((3, 96, 96, 3), np.float32)
    with m.context(max_batch=3) as cb, m.context() as c:
        assert np.array_equal(cb.run(x), c.run(x))
    for bad in (0, -2, 2.5):
        with pytest.raises(ValueError):
            m.context(max_batch=bad)


def test_warmup():
    """warmup (the default) and warmup=False: the same logits on 1 and 2 threads, and neither
    context's profile counts anything before the caller's first run; warmup takes only a bool."""
    m = mnet.Model.random("v3-small", alpha=0.75, resolution=112, num_classes=10, seed=6)
    x = np.random.default_rng(3).standard_normal((2, 112, 112, 3), np.float32)
    for threads in (1, 2):
        with m.context(threads=threads, profile=True) as w, \
                m.context(threads=threads, profile=True, warmup=False) as c:
            assert all(ms == 0 for _, _, ms in w.profile() + c.profile())
            assert np.array_equal(w.run(x), c.run(x))
            assert all(ms > 0 for _, _, ms in w.profile())
    for bad in (0, "no", None):
        with pytest.raises(ValueError):
            m.context(warmup=bad)


def test_profile():
    """profile=True: the same logits, and (first, last, ms) rows covering every layer once,
    fused groups as one row; without it, profile() raises."""
    m = mnet.Model.random("v2", alpha=1.0, resolution=96, num_classes=10, seed=2)
    x = np.random.default_rng(1).standard_normal((2, 96, 96, 3), np.float32)
    with m.context(threads=2, profile=True) as cp, m.context(threads=2) as c:
        assert np.array_equal(cp.run(x), c.run(x))
        rows = cp.profile()
        with pytest.raises(mnet.Error):
            c.profile()
    covered = [i for first, last, _ in rows for i in range(first, last + 1)]
    assert covered == list(range(m.info.layers))
    assert any(last > first for first, last, _ in rows)   # V2's blocks run fused
    assert all(ms > 0 for _, _, ms in rows)


def test_model_bad_inputs_raise():
    with pytest.raises(mnet.Error) as e:
        mnet.Model.load("/nonexistent/x.mnet")
    assert e.value.status == "MNET_ERR_IO"
    data = open(os.path.join(FIXTURES, "v2_a035_r96.mnet"), "rb").read()
    with pytest.raises(mnet.Error) as e:
        mnet.Model.from_bytes(data[:5000])
    assert e.value.status == "MNET_ERR_FORMAT" and "truncated" in e.value.detail
    with pytest.raises(mnet.Error):
        mnet.Model.random("v2", alpha=0.0)
    with pytest.raises(ValueError):
        mnet.Model.random("v3")
    m = mnet.Model.load(os.path.join(FIXTURES, "v2_a035_r96.mnet"))
    ctx = m.context()
    for bad in (np.zeros((96, 96, 4), np.float32), np.zeros((1, 95, 96, 3), np.float32),
                np.zeros((96, 96), np.float32), np.array([["x"]]), np.zeros((0, 96, 96, 3))):
        with pytest.raises(ValueError):
            ctx.run(bad)
    with pytest.raises(ValueError):
        ctx.classify(np.zeros((28, 28), np.float32))                 # not uint8
    with pytest.raises(ValueError):
        m.context(threads=0)
    with pytest.raises(ValueError):
        m.context(isa="mips")
    m.close()                            # deferred: the context still uses it
    assert ctx.run(np.zeros((96, 96, 3), np.float32)).shape == (1, 10)
    ctx.close()                          # frees the context, then the model
    ctx.close()
    with pytest.raises(ValueError):
        ctx.run(np.zeros((96, 96, 3), np.float32))
    with pytest.raises(ValueError):
        m.context()


def _idx(name):
    with gzip.open(os.path.join("/usr/share/datasets/fashion-mnist", name)) as f:
        data = f.read()
    nd = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * nd).reshape(dims)


def test_fashion_mnist_same_as_mnet_command(tmp_path):
    """All 10,000 test images: Python's predictions equal the mnet command's."""
    model_path = os.path.join(FASHION, "fashion_mnist_v2.mnet")
    images = _idx("t10k-images-idx3-ubyte.gz")
    m = mnet.Model.load(model_path)
    with m.context() as ctx:
        ours = [ctx.classify(img, top=1)[0][0] for img in images]
    idx = tmp_path / "images.idx"
    idx.write_bytes(b"\0\0\x08\x03" + len(images).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 +
                    images.tobytes())
    pred = tmp_path / "pred.txt"
    subprocess.run([os.environ.get("MNET_EXE", os.path.join(ROOT, "build", "mnet")), "classify",
                    model_path, "--idx-images", str(idx), "--predictions", str(pred)], check=True,
                   capture_output=True)
    theirs = [int(v) for v in pred.read_text().split()]
    assert ours == theirs
    labels = _idx("t10k-labels-idx1-ubyte.gz")
    assert np.mean(np.array(ours) == labels) > 0.8


def test_two_threads_share_a_model():
    """Two Python threads with their own contexts on one model, running at the same time: every
    result equals the one computed alone.  (The speed-up is shown by bench/bench_python.py, not
    timed here.)"""
    m = mnet.Model.random("v2", alpha=0.5, resolution=96, num_classes=10, seed=1)
    xs = [RNG.standard_normal((2, 96, 96, 3)).astype(np.float32) for _ in range(2)]
    with m.context() as c:
        alone = [c.run(x) for x in xs]
    ctxs = [m.context(threads=1) for _ in range(2)]
    bad = []

    def work(i):
        for _ in range(20):
            if not np.array_equal(ctxs[i].run(xs[i]), alone[i]):
                bad.append(i)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad
    for c in ctxs:
        c.close()
    m.close()


def test_library_lookup_errors():
    """A bad MNET_LIBRARY is reported among the paths tried; with nothing usable, ImportError."""
    import subprocess as sp
    import sys
    env = dict(os.environ, MNET_LIBRARY="/nonexistent/libmnet.so.0",
               PYTHONPATH=os.path.join(ROOT, "python"))
    env.pop("LD_LIBRARY_PATH", None)
    code = (
            "try:\n    import mnet\n    print('LOADED', mnet.LIB_PATH)\n"
            "except ImportError as e:\n    print('IMPORTERROR', e)\n")
    r = sp.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "Traceback" not in r.stderr, r.stderr
    # The package's own folder and the system loader may still hold a libmnet; either way the
    # bad MNET_LIBRARY must not be what got loaded.
    assert ("IMPORTERROR" in r.stdout and "/nonexistent/libmnet.so.0" in r.stdout) or \
        ("LOADED" in r.stdout and "/nonexistent" not in r.stdout), r.stdout + r.stderr
    libm = "libm.so.6"
    env["MNET_LIBRARY"] = libm if os.path.exists(libm) else "/lib/x86_64-linux-gnu/libm.so.6"
    r = sp.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert ("IMPORTERROR" in r.stdout and "lacks mnet_" in r.stdout) or "LOADED" in r.stdout, r.stdout
