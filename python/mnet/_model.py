"""Models and contexts over the C API."""
import ctypes
import os
import threading
from dataclasses import dataclass

import numpy as np

from ._lib import ARCHS, LIB, ModelInfo as _CInfo, Options, check, isa_code


@dataclass(frozen=True)
class ModelInfo:
    arch: str
    alpha: float
    height: int
    width: int
    channels: int
    num_classes: int
    params: int
    macs: int
    layers: int


class Model:
    """An immutable model, shareable across threads.  Free it with close() (or a with-block,
    or let it be collected); contexts keep it alive until they are closed."""

    def __init__(self, handle):
        self._h = handle
        self._users = 0
        self._closing = False
        self._lock = threading.Lock()
        info = _CInfo()
        check(LIB.mnet_model_get_info(self._h, ctypes.byref(info)))
        self.info = ModelInfo(arch={v: k for k, v in ARCHS.items()}.get(info.arch, str(info.arch)),
                              alpha=round(float(info.alpha), 6), height=info.height,
                              width=info.width, channels=info.channels,
                              num_classes=info.num_classes, params=int(info.params),
                              macs=int(info.macs), layers=info.layers)

    @classmethod
    def load(cls, path):
        """Load a model file (docs/FORMAT.md)."""
        h = ctypes.c_void_p()
        check(LIB.mnet_model_load(os.fsencode(path), ctypes.byref(h)))
        return cls(h)

    @classmethod
    def from_bytes(cls, data):
        """Load from a bytes-like object (only read during the call)."""
        buf = bytes(data)
        h = ctypes.c_void_p()
        check(LIB.mnet_model_load_memory(buf, len(buf), ctypes.byref(h)))
        return cls(h)

    @classmethod
    def random(cls, arch="v2", alpha=1.0, resolution=224, num_classes=1000, seed=0):
        """A model with seeded random weights (for benchmarks and tests)."""
        if arch not in ARCHS:
            raise ValueError(f"arch must be one of {', '.join(ARCHS)}, not {arch!r}")
        h = ctypes.c_void_p()
        check(LIB.mnet_model_create_random(ARCHS[arch], float(alpha), int(resolution),
                                           int(num_classes), int(seed), ctypes.byref(h)))
        return cls(h)

    @property
    def preprocess(self):
        """(mean, std) per channel, as stored in the model."""
        mean, std = (ctypes.c_float * 3)(), (ctypes.c_float * 3)()
        check(LIB.mnet_model_get_preprocess(self._require(), mean, std))
        return list(mean), list(std)

    def context(self, threads=1, isa="auto", profile=False, max_batch=1, warmup=True):
        """A context (scratch memory + `threads` - 1 worker threads) for running this model;
        profile=True times every layer (Context.profile); max_batch: images its buffers are
        allocated for now (a larger batch grows them on its first run); warmup=False skips the
        inference on a zero image that otherwise makes the first run as fast as later ones."""
        return Context(self, threads, isa, profile, max_batch, warmup)

    def _require(self):
        if self._h is None or self._closing:
            raise ValueError("the model is closed")
        return self._h

    def _acquire(self):
        with self._lock:
            self._require()
            self._users += 1

    def _release(self):
        with self._lock:
            self._users -= 1
            self._free_if_done()

    def _free_if_done(self):
        if self._closing and self._users == 0 and self._h is not None:
            LIB.mnet_model_free(self._h)
            self._h = None

    def close(self):
        """Free the model now, or as soon as its last context is closed.  Idempotent."""
        with self._lock:
            self._closing = True
            self._free_if_done()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_h", None) is not None:
            self._closing = True
            self._users = 0
            LIB.mnet_model_free(self._h)
            self._h = None


class Context:
    """Runs a model.  One call at a time (calls from several threads are serialised); use one
    context per thread for parallelism."""

    def __init__(self, model, threads=1, isa="auto", profile=False, max_batch=1, warmup=True):
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive int, not {threads!r}")
        if not isinstance(max_batch, int) or max_batch < 1:
            raise ValueError(f"max_batch must be a positive int, not {max_batch!r}")
        if not isinstance(warmup, bool):
            raise ValueError(f"warmup must be True or False, not {warmup!r}")
        opts = Options()
        LIB.mnet_options_default(ctypes.byref(opts))
        opts.num_threads = threads
        opts.isa = isa_code(isa)
        opts.profile = 1 if profile else 0
        opts.max_batch = max_batch
        opts.skip_warmup = 0 if warmup else 1
        model._acquire()
        h = ctypes.c_void_p()
        try:
            check(LIB.mnet_context_create(model._h, ctypes.byref(opts), ctypes.byref(h)))
        except Exception:
            model._release()
            raise
        self._h, self.model, self._lock = h, model, threading.Lock()

    def _require(self):
        if self._h is None:
            raise ValueError("the context is closed")
        return self._h

    def run(self, x):
        """Logits [batch, num_classes] for preprocessed float32 NHWC input [batch, h, w, c]
        (or one image [h, w, c]); other dtypes and layouts are converted."""
        info = self.model.info
        x = np.asarray(x)
        if x.ndim == 3:
            x = x[None]
        want = (info.height, info.width, info.channels)
        if x.ndim != 4 or tuple(x.shape[1:]) != want or x.shape[0] < 1:
            raise ValueError(f"input must be [batch, {want[0]}, {want[1]}, {want[2]}] or "
                             f"{list(want)}, got shape {list(x.shape)}")
        if not np.issubdtype(x.dtype, np.number):
            raise ValueError(f"input must be numeric, got dtype {x.dtype}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        out = np.empty((x.shape[0], info.num_classes), np.float32)
        with self._lock:
            check(LIB.mnet_context_run(self._require(), x.shape[0], x.ctypes.data,
                                       out.ctypes.data))
        return out

    def profile(self):
        """Where the time went, for a context made with profile=True: one (first, last, ms)
        per layer, or per fused group of layers first..last, ms its mean milliseconds per image
        over every run so far (mnet_context_get_profile)."""
        n = self.model.info.layers
        ms, group = (ctypes.c_double * n)(), (ctypes.c_int * n)()
        with self._lock:
            check(LIB.mnet_context_get_profile(self._require(), n, ms, group))
        rows = []
        for i in range(n):
            if group[i] == i:
                rows.append([i, i, ms[i]])
            else:
                rows[-1][1] = i
        return [tuple(r) for r in rows]

    def preprocess(self, image):
        """An 8-bit HWC image (RGB, or gray [h, w] / [h, w, 1]) of any size -> the model's
        input [h, w, c]: bilinear resize and the model's mean/std, as mnet_preprocess_u8."""
        img = np.asarray(image)
        if img.dtype != np.uint8:
            raise ValueError(f"image must be uint8, got {img.dtype}")
        if img.ndim == 2:
            img = img[:, :, None]
        if img.ndim != 3 or img.shape[2] not in (1, 3) or img.shape[0] < 1 or img.shape[1] < 1:
            raise ValueError(f"image must be [h, w], [h, w, 1] or [h, w, 3], got {list(img.shape)}")
        img = np.ascontiguousarray(img)
        info = self.model.info
        out = np.empty((info.height, info.width, info.channels), np.float32)
        check(LIB.mnet_preprocess_u8(self.model._require(), img.ctypes.data, img.shape[1],
                                     img.shape[0], img.shape[2], img.strides[0], out.ctypes.data))
        return out

    def classify(self, image, top=5):
        """[(class, probability), ...] for an 8-bit image, most likely first."""
        logits = self.run(self.preprocess(image))[0].astype(np.float64)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        order = np.argsort(-p, kind="stable")[:max(1, int(top))]
        return [(int(i), float(p[i])) for i in order]

    def close(self):
        """Free the context (joins its threads).  Idempotent."""
        if getattr(self, "_h", None) is not None:
            with self._lock:
                LIB.mnet_context_free(self._h)
                self._h = None
            self.model._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()
