"""ctypes bindings of libTesseraC (the header is Sources/CTessera/include/tessera.h): the library
is loaded from TESSERA_LIBRARY when set (a development build), else from the package's lib/."""
import ctypes
import os
from pathlib import Path

ABI_VERSION = 1

OK, INVALID_ARGUMENT, OUT_OF_MEMORY, NUMERICAL, NOT_CONVERGED, CANCELLED, INTERNAL = range(7)
PROBLEMS = {"gram": 0, "lstsq": 1, "attention": 2}
METHODS = {"auto": 0, "paper": 1, "pcg": 2, "direct": 3, "cholesky": 4, "surrogate": 5}
METHOD_NAMES = {v: k for k, v in METHODS.items()}
SKETCHES = {"sparse-sign": 0, "gaussian": 1, "srht": 2, "countsketch": 3}
RANK_DEFICIENT = {"min-norm": 0, "refuse": 1}
PRECISIONS = {None: 0, "double": 1, "mixed": 2}
ROW_MAJOR, COLUMN_MAJOR = 0, 1
FLOAT64, FLOAT32 = 0, 1

PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int64, ctypes.c_double)
PHASE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int)
PHASE_NAMES = ["load", "sketch", "factor", "iterate", "verify", "write"]


class Options(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("problem", ctypes.c_int),
        ("power", ctypes.c_int32),
        ("ridge", ctypes.c_double),
        ("method", ctypes.c_int),
        ("sketch", ctypes.c_int),
        ("sketch_size_factor", ctypes.c_double),
        ("tolerance", ctypes.c_double),
        ("max_iterations", ctypes.c_int64),
        ("seed", ctypes.c_uint64),
        ("memory_budget", ctypes.c_uint64),
        ("rank", ctypes.c_int64),
        ("progress", PROGRESS),
        ("progress_user_data", ctypes.c_void_p),
        ("phase", PHASE),
        ("rank_deficient", ctypes.c_int),
        ("rcond", ctypes.c_double),
        ("precision", ctypes.c_int),
    ]


class Info(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("status", ctypes.c_int),
        ("tolerance_met", ctypes.c_int32),
        ("iterations", ctypes.c_int32),
        ("accuracy", ctypes.c_double),
        ("accuracy_kind", ctypes.c_int32),
        ("accuracy_floor", ctypes.c_double),
        ("tolerance", ctypes.c_double),
        ("condition_a", ctypes.c_double),
        ("condition_preconditioned", ctypes.c_double),
        ("seconds_sketch", ctypes.c_double),
        ("seconds_factor", ctypes.c_double),
        ("seconds_iterate", ctypes.c_double),
        ("seconds_verify", ctypes.c_double),
        ("seconds_total", ctypes.c_double),
        ("method", ctypes.c_int),
        ("history", ctypes.POINTER(ctypes.c_double)),
        ("history_capacity", ctypes.c_int64),
        ("history_length", ctypes.c_int64),
        ("rank", ctypes.c_int64),
        ("smallest_kept_singular_value", ctypes.c_double),
        ("largest_dropped_singular_value", ctypes.c_double),
    ]


def _load():
    explicit = os.environ.get("TESSERA_LIBRARY")
    if explicit:
        return ctypes.CDLL(explicit)
    lib = Path(__file__).resolve().parent / "lib"
    path = lib / "libTesseraC.so"
    if not path.exists():
        raise ImportError(f"tessera: {path} is missing; install the package with `pip install --no-build-isolation ./python` "
                          "from the repository, or set TESSERA_LIBRARY to a built libTesseraC.so")
    return ctypes.CDLL(str(path))


lib = _load()
P, I64, I32, D = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32, ctypes.c_double
lib.tessera_abi_version.restype = I32
lib.tessera_last_error.restype = ctypes.c_char_p
lib.tessera_options_init.argtypes = [ctypes.POINTER(Options), ctypes.c_uint32]
lib.tessera_context_create.argtypes = [I32, ctypes.POINTER(P)]
lib.tessera_context_threads.argtypes = [P]
lib.tessera_context_threads.restype = I32
lib.tessera_context_destroy.argtypes = [P]
lib.tessera_context_destroy.restype = None
lib.tessera_plan_create.argtypes = [P, P, I64, I64, I64, ctypes.c_int, ctypes.c_int, ctypes.POINTER(Options), ctypes.POINTER(P)]
lib.tessera_plan_rhs_length.argtypes = [P]
lib.tessera_plan_rhs_length.restype = I64
lib.tessera_plan_solution_length.argtypes = [P]
lib.tessera_plan_solution_length.restype = I64
lib.tessera_plan_method.argtypes = [P]
lib.tessera_plan_method.restype = ctypes.c_char_p
lib.tessera_plan_matrix_data.argtypes = [P]
lib.tessera_plan_matrix_data.restype = P
lib.tessera_plan_cross_kernel.argtypes = [P, P, I64, I64, ctypes.c_int, P, P]
lib.tessera_solve.argtypes = [P, P, I64, I64, P, I64, P, P]
lib.tessera_plan_destroy.argtypes = [P]
lib.tessera_plan_destroy.restype = None
lib.tessera_solve_batched.argtypes = [P, ctypes.POINTER(Options), I64, P, I64, I64, I64, ctypes.c_int, I64, P, I64, P, I64, P]
for name in ("tessera_options_init", "tessera_context_create", "tessera_plan_create", "tessera_plan_cross_kernel",
             "tessera_solve", "tessera_solve_batched"):
    getattr(lib, name).restype = ctypes.c_int

if lib.tessera_abi_version() != ABI_VERSION:
    raise ImportError(f"tessera: the library speaks ABI {lib.tessera_abi_version()}, this package {ABI_VERSION}; reinstall the package")


def last_error():
    message = lib.tessera_last_error()
    return message.decode("utf-8", "replace") if message else ""
