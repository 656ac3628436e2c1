"""Finding and describing libmnet.so.0 with ctypes (no compilation)."""
import ctypes
import os

API_VERSION = 0          # the soname's major version this package speaks
_SONAME = "libmnet.so.0"


class Error(Exception):
    """A non-OK mnet_status: .status is its name (e.g. "MNET_ERR_FORMAT"), .detail the
    library's mnet_last_error() text."""

    def __init__(self, status, detail):
        self.status = status
        self.detail = detail
        super().__init__(f"{status}: {detail}" if detail else status)


_STATUS = {0: "MNET_OK", 1: "MNET_ERR_ARG", 2: "MNET_ERR_NOMEM", 3: "MNET_ERR_IO",
           4: "MNET_ERR_FORMAT", 5: "MNET_ERR_UNSUPPORTED"}
ISAS = {"auto": 0, "scalar": 1, "avx2": 2, "neon": 3, "avx512": 4}
ARCHS = {"v1": 1, "v2": 2, "v3-large": 3, "v3-small": 4}


class ConvParams(ctypes.Structure):
    _fields_ = [("stride", ctypes.c_int), ("pad_top", ctypes.c_int), ("pad_left", ctypes.c_int),
                ("pad_bottom", ctypes.c_int), ("pad_right", ctypes.c_int),
                ("out_min", ctypes.c_float), ("out_max", ctypes.c_float)]


class ModelInfo(ctypes.Structure):
    _fields_ = [("arch", ctypes.c_int), ("alpha", ctypes.c_float), ("height", ctypes.c_int),
                ("width", ctypes.c_int), ("channels", ctypes.c_int), ("num_classes", ctypes.c_int),
                ("params", ctypes.c_uint64), ("macs", ctypes.c_uint64), ("layers", ctypes.c_int)]


class Options(ctypes.Structure):
    _fields_ = [("num_threads", ctypes.c_int), ("isa", ctypes.c_int),
                ("profile", ctypes.c_int), ("max_batch", ctypes.c_int),
                ("skip_warmup", ctypes.c_int), ("reserved", ctypes.c_int * 11)]


_P = ctypes.c_void_p
_F = ctypes.POINTER(ctypes.c_float)
_I, _SZ, _FL = ctypes.c_int, ctypes.c_size_t, ctypes.c_float

# name: (restype, argtypes)
_SIGNATURES = {
    "mnet_version_string": (ctypes.c_char_p, []),
    "mnet_status_string": (ctypes.c_char_p, [_I]),
    "mnet_last_error": (ctypes.c_char_p, []),
    "mnet_isa_selected": (_I, []),
    "mnet_isa_available": (_I, [_I]),
    "mnet_isa_name": (ctypes.c_char_p, [_I]),
    "mnet_model_load": (_I, [ctypes.c_char_p, ctypes.POINTER(_P)]),
    "mnet_model_load_memory": (_I, [_P, _SZ, ctypes.POINTER(_P)]),
    "mnet_model_create_random": (_I, [_I, _FL, _I, _I, ctypes.c_uint64, ctypes.POINTER(_P)]),
    "mnet_model_free": (None, [_P]),
    "mnet_model_get_info": (_I, [_P, ctypes.POINTER(ModelInfo)]),
    "mnet_model_get_preprocess": (_I, [_P, _F, _F]),
    "mnet_options_default": (None, [ctypes.POINTER(Options)]),
    "mnet_context_create": (_I, [_P, ctypes.POINTER(Options), ctypes.POINTER(_P)]),
    "mnet_context_run": (_I, [_P, _I, _P, _P]),
    "mnet_context_free": (None, [_P]),
    "mnet_context_get_profile": (_I, [_P, _I, ctypes.POINTER(ctypes.c_double),
                                      ctypes.POINTER(_I)]),
    "mnet_preprocess_u8": (_I, [_P, _P, _I, _I, _I, _SZ, _P]),
    "mnet_dwconv3x3_f32": (_I, [_I, _I, _I, _I, _I, _P, _P, _P, ctypes.POINTER(ConvParams), _P]),
    "mnet_conv3x3_f32": (_I, [_I, _I, _I, _I, _I, _I, _P, _P, _P, ctypes.POINTER(ConvParams), _P]),
    "mnet_gemm_f32": (_I, [_I, _I, _I, _I, _P, _P, _P, _FL, _FL, _P]),
    "mnet_bn_relu6_f32": (_I, [_I, _SZ, _I, _P, _P, _P, _P]),
    "mnet_global_avgpool_f32": (_I, [_I, _I, _I, _I, _I, _P, _P]),
    "mnet_add_f32": (_I, [_I, _SZ, _P, _P, _FL, _FL, _P]),
    "mnet_softmax_f32": (_I, [_I, _I, _I, _P, _P]),
}


def _candidates():
    here = os.path.dirname(os.path.abspath(__file__))
    out = []
    env = os.environ.get("MNET_LIBRARY")
    if env:
        out.append(("MNET_LIBRARY", env))
    out.append(("next to the package", os.path.join(here, _SONAME)))
    out.append(("next to the package", os.path.join(os.path.dirname(here), _SONAME)))
    out.append(("system loader", _SONAME))
    return out


def load():
    """The CDLL with every signature set, trying MNET_LIBRARY, the package's folder, then the
    system loader.  ImportError says what was tried and why each failed."""
    tried = []
    for where, path in _candidates():
        if where != "system loader" and not os.path.exists(path):
            tried.append(f"{path} ({where}): no such file")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{path} ({where}): {e}")
            continue
        missing = [n for n in _SIGNATURES if not hasattr(lib, n)]
        if missing:
            tried.append(f"{path} ({where}): lacks {', '.join(missing[:3])}")
            continue
        for name, (res, args) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args
        version = lib.mnet_version_string().decode()
        if int(version.split(".")[0]) != API_VERSION:
            tried.append(f"{path} ({where}): version {version}, this package needs {API_VERSION}.x")
            continue
        return lib, path
    raise ImportError("mnet: no usable libmnet.so.0; tried:\n  " + "\n  ".join(tried))


LIB, LIB_PATH = load()


def check(status):
    if status != 0:
        detail = (LIB.mnet_last_error() or b"").decode(errors="replace")
        raise Error(_STATUS.get(status, f"status {status}"), detail)


def isa_code(name):
    try:
        return ISAS[name]
    except KeyError:
        raise ValueError(f"isa must be one of {sorted(ISAS)}, not {name!r}") from None
