"""mnet: MobileNet V1/V2 inference on the CPU, from Python.

Pure Python over libmnet.so.0 (ctypes + numpy, nothing to compile).  The library is found
through MNET_LIBRARY (a path), then next to this package, then the system loader.

    import mnet
    model = mnet.Model.load("tools/fashion-mnist/fashion_mnist_v2.mnet")
    with model.context(threads=2) as ctx:
        print(ctx.classify(image_uint8_hwc, top=5))     # [(class, probability), ...]

Inference releases the GIL (ctypes does for every library call), so threads with their own
contexts on one model run in parallel.
"""
from . import kernels
from ._lib import LIB, LIB_PATH, Error
from ._model import Context, Model, ModelInfo

__all__ = ["Error", "Model", "Context", "ModelInfo", "kernels", "version", "isa_selected",
           "isa_available", "LIB_PATH"]


def version():
    """The library's version string, e.g. "0.1.0"."""
    return LIB.mnet_version_string().decode()


def isa_selected():
    """The tier MNET_ISA_AUTO runs: "scalar", "avx2", "avx512" or "neon"."""
    return LIB.mnet_isa_name(LIB.mnet_isa_selected()).decode()


def isa_available(name):
    """True if this build and CPU can run tier `name` ("auto", "scalar", "avx2", ...)."""
    from ._lib import isa_code
    return bool(LIB.mnet_isa_available(isa_code(name)))
