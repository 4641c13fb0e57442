"""stepjit's public API: what `import stepjit as torch` gives (stepjit/__init__.py loads this
module on the package's first attribute read and copies its names onto the package).

It re-exports, and wires the layers: the hooks through which the front end reaches what
sits above it are set at the end.
"""
import math as _math
import sys as _sys

from . import config
from . import ops as _ops  # noqa: F401  (binds the Tensor methods)
from . import autograd  # noqa: F401
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .autograd.grad_mode import inference_mode, is_inference_mode_enabled  # noqa: F401
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled  # noqa: F401
from .amp import get_autocast_dtype, is_autocast_available, is_autocast_enabled  # noqa: F401
from .defaults import (  # noqa: F401
    are_deterministic_algorithms_enabled, get_default_device, get_default_dtype,
    get_float32_matmul_precision, set_default_device, set_default_dtype,
    set_float32_matmul_precision, use_deterministic_algorithms)
from .errors import CheckError, DTypeError, ShapeError, StepjitError  # noqa: F401
from .ir.types import DType as dtype  # noqa: F401
from .ir.types import bool_ as bool  # noqa: F401
from .ir.types import bfloat16, float16, float32, float64, int8, int16, int32, int64, uint8  # noqa: F401
from .ops.convert import cast as _cast  # noqa: F401
from .ops.creation import (  # noqa: F401
    arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy, full, full_like, linspace,
    multinomial, normal, ones, ones_like, rand, rand_like, randint, randint_like, randn, randn_like,
    randperm, tensor, zeros, zeros_like)
from .ops.elementwise import (  # noqa: F401
    abs, add, addcdiv, addcmul, ceil, clamp, clip, cos, div, divide, eq, exp, floor, floor_divide,
    ge, gt, le, lerp, log, log1p, logical_and, logical_not, logical_or, lt, masked_fill, maximum,
    minimum, mul, ne, neg, pow, reciprocal, relu, round, rsqrt, sigmoid, sign, sin, sqrt, square,
    sub, tanh, true_divide, where)
from .ops.elementwise import (  # noqa: F401
    allclose, clamp_max, clamp_min, equal, erf, erfc, erfinv, expm1, isclose, isfinite, isinf,
    isnan, isneginf, isposinf, log2, log10, logical_xor, nan_to_num, fmod, remainder)
from .ops.bitwise import (  # noqa: F401
    bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift, bitwise_xor)
from .ops.elementwise import digamma, lgamma, mvlgamma, polygamma  # noqa: F401
from .ops import legacy as _legacy
from .ops.legacy import (  # noqa: F401
    BFloat16Tensor, BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, IntTensor,
    LongTensor, ShortTensor)
from .ops.contract import addbmm, addmm, addmv, addr, baddbmm, einsum  # noqa: F401
from .ops.scatter import (  # noqa: F401
    index_add, index_copy, index_fill, scatter, scatter_add, scatter_reduce)
from .ops.sorting import (  # noqa: F401
    argsort, bincount, cumprod, cumsum, kthvalue, msort, sort, topk, unique, unique_consecutive)
from .ops.tiling import (  # noqa: F401
    diag, diag_embed, diagonal, meshgrid, repeat_interleave, roll, tile, trace, tril, triu)
from .ops.index import gather, index_select, masked_select, nonzero, take_along_dim  # noqa: F401
from .ops.reduce import (  # noqa: F401
    all, amax, amin, any, argmax, argmin, count_nonzero, log_softmax, logsumexp, max, mean, min,
    norm, prod, softmax, std, sum, var)
from .ops.strided import as_strided  # noqa: F401
from .ops.shape import (  # noqa: F401
    bmm, broadcast_shapes, broadcast_tensors, broadcast_to, cat, chunk, concat, dot, flatten, flip, matmul, mm, mv, narrow, outer, permute,
    moveaxis, movedim, reshape, select, split, squeeze, stack, swapaxes, t, transpose, unbind, unsqueeze)
from .random import (  # noqa: F401
    Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state)
from .serialization import load, save  # noqa: F401
from .tensor import Size, Tensor, device  # noqa: F401

float = float32
double = float64
long = int64
int = int32
short = int16
half = float16

# PyTorch's module constants (`-torch.inf` in attention masks, `2 * torch.pi`)
inf, nan, pi, e = _math.inf, _math.nan, _math.pi, _math.e
newaxis = None

from .version import __version__  # noqa: E402,F401  (one place: stepjit/version.py)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def numel(input):
    return input.numel()


def clone(input):
    return input.clone()


def detach(input):
    return input.detach()


from .runtime import compile  # noqa: E402,F401
from .nn.modules import module as _module  # noqa: E402
_module.COMPILE = compile
from . import compiler, _dynamo, _functorch, _inductor, _C  # noqa: E402,F401
from .tracer import make_ir  # noqa: E402,F401
from . import nn, optim, utils  # noqa: E402,F401
from . import accelerator, backends, cuda  # noqa: E402,F401
from .transforms import grad, value_and_grad  # noqa: E402,F401
from . import func  # noqa: E402,F401  (torch.func: grad, vmap, jacrev, functional_call)
from .func import vmap  # noqa: E402,F401
from . import profiler  # noqa: E402,F401
from . import amp, distributions, onnx, testing, version  # noqa: E402,F401
from . import multiprocessing  # noqa: E402,F401  (torch.multiprocessing: tensors shared)
from .layouts import (  # noqa: E402,F401
    channels_last, channels_last_3d, contiguous_format, layout, memory_format, preserve_format,
    sparse_coo, strided)
from . import sparse  # noqa: E402,F401  (torch.sparse: mm, sum)
from . import storage  # noqa: E402,F401  (torch.storage: Tensor.storage()'s type)
from .storage import TypedStorage, UntypedStorage  # noqa: E402,F401
from .ops.sparse import sparse_coo_tensor  # noqa: E402,F401
from .ops.shape import mm as spmm  # noqa: E402,F401  (PyTorch's name for mm with a sparse mat1)
from .amp import autocast  # noqa: E402,F401
from . import cpu  # noqa: E402,F401

# `torch.cuda.amp` and `torch.cpu.amp`: attributes and importable names, as in PyTorch.
cuda.amp, cpu.amp = amp.cuda_amp, amp.cpu_amp
# `torch.cuda.FloatTensor` and kin (legacy typed tensors on the device), and PyTorch's
# deprecated `torch.has_mps`: stepjit has no Metal backend.
for _name, _cls in _legacy.CUDA_BY_NAME.items():
    setattr(cuda, _name, _cls)
has_mps = False
_sys.modules["stepjit.cuda.amp"], _sys.modules["stepjit.cpu.amp"] = amp.cuda_amp, amp.cpu_amp

# Math, statistics, linear algebra and utilities beyond the core (docs/math.md).
from .ops.mathfns import (  # noqa: E402,F401
    acos, acosh, arccos, arcsin, arctan, arctan2, asin, asinh, atan, atan2, atanh, cosh,
    copysign, deg2rad, fix, float_power, fmax, fmin, frac, heaviside, hypot, logaddexp, logaddexp2,
    gcd, lcm, logit, rad2deg, sgn, signbit, sinh, tan, trunc, xlogy)
from .ops.elementwise import exp2  # noqa: E402,F401
from .ops.reduce import aminmax  # noqa: E402,F401
from .ops.sample_stats import corrcoef, cov, nanquantile, quantile  # noqa: E402,F401
from .ops.search import unravel_index  # noqa: E402,F401
from .ops.shape import ravel, select  # noqa: E402,F401
from .ops.stats import (  # noqa: E402,F401
    cdist, cummax, cummin, dist, histc, histogram, logcumsumexp, median, mode, nanmedian,
    std_mean, var_mean)
from .ops.stacking import (  # noqa: E402,F401
    atleast_1d, atleast_2d, atleast_3d, column_stack, dstack, fliplr, flipud, hstack, rot90,
    row_stack, tensor_split, vstack)
from .ops.products import cross, kron, tensordot  # noqa: E402,F401
from .ops.sampling import binomial, poisson  # noqa: E402,F401
from .ops.series import (  # noqa: E402,F401
    block_diag, cartesian_prod, chain_matmul, combinations, cumulative_trapezoid, diff, inner,
    matrix_power, nanmean, nansum, pdist, trapezoid, trapz, vander)
from .ops.shape import outer as ger  # noqa: E402,F401
from .ops.typing_rules import can_cast, is_nonzero, promote_types, result_type  # noqa: E402,F401
from .ops.search import (  # noqa: E402,F401
    argwhere, bucketize, isin, logspace, searchsorted, take, tril_indices, triu_indices)
from .ops.shape import concatenate  # noqa: E402,F401
from .ops.foreach import FOREACH as _FOREACH  # noqa: E402  (torch._foreach_add_, ...)
globals().update(_FOREACH)
from .dtype_info import finfo, iinfo  # noqa: E402,F401
from .threads import (  # noqa: E402,F401
    get_num_interop_threads, get_num_threads, set_num_interop_threads, set_num_threads)
from ._printing import set_printoptions  # noqa: E402,F401
from . import distributions, fft, jit, linalg, special  # noqa: E402,F401
from .ops import return_types  # noqa: E402,F401  (torch.return_types: max, sort, svd, ...)
from .special import sinc  # noqa: E402,F401
from .nn.functional import cosine_similarity, pairwise_distance  # noqa: E402,F401
from .nn.functions.norm import norm_except_dim, weight_norm as _weight_norm  # noqa: E402,F401
from .linalg import det, inv as inverse, logdet, matrix_exp  # noqa: E402,F401
from .linalg import slogdet_legacy as slogdet  # noqa: E402,F401
from .linalg import (  # noqa: E402,F401
    cholesky_legacy as cholesky, qr_legacy as qr, svd_legacy as svd)
from .linalg import lu_legacy as lu, lu_solve_legacy as lu_solve, lu_unpack  # noqa: E402,F401


def typename(obj):
    """'stepjit.FloatTensor' for a tensor (Tensor.type()), else PyTorch's rule: the object's
    own module and qualified name (a class, a function, a module), else its class's name."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", None)
    prefix = "" if module in (None, "builtins", "__builtin__") else module + "."
    for attr in ("__qualname__", "__name__"):
        if hasattr(obj, attr):
            return prefix + getattr(obj, attr)
    return prefix + type(obj).__name__


from .ops.spellings import (  # noqa: E402,F401
    absolute, arccosh, arcsinh, arctanh, bartlett_window, blackman_window, conj, diagflat,
    dsplit, greater, greater_equal, hamming_window, hann_window, hsplit, is_complex, is_conj,
    is_inference, is_neg, is_same_size, is_signed, kaiser_window, less, less_equal,
    not_equal, positive, resolve_conj, resolve_neg, scalar_tensor, split_with_sizes, swapdims,
    vdot, vsplit)
from .ops.spellings import (  # noqa: E402,F401
    adjoint, asarray, diagonal_scatter, empty_strided, ldexp, masked_scatter, narrow_copy,
    put, range_ as range, renorm, rsub, select_scatter, set_default_tensor_type, slice_scatter)
from .ops.shape import chunk as unsafe_chunk, split as unsafe_split  # noqa: E402,F401
from .ops.complex_numbers import (  # noqa: E402,F401
    angle, complex_ as complex, imag, polar, real, view_as_complex, view_as_real)
from .ir.types import complex64, complex128  # noqa: E402,F401
cfloat, cdouble = complex64, complex128
from .ops.elementwise import mul as multiply, neg as negative, sub as subtract  # noqa: E402,F401
from .linalg import pinverse  # noqa: E402,F401
from .nn.torch_forms import FORMS as _FORMS  # noqa: E402

globals().update(_FORMS)

from .ops import complex_numbers as _complex_numbers  # noqa: E402

_complex_numbers.wrap_namespace(globals())   # torch.abs(z), torch.mul(z, w), ... on complex

from .ops import out as _out  # noqa: E402

_out.wrap_namespace(globals())   # every tensor function takes PyTorch's out= (ops/out.py)

from .ops import axis_alias as _axis_alias  # noqa: E402

_axis_alias.wrap_namespace(globals())   # ... and axis= for dim= (ops/axis_alias.py)

# The front end reaches what sits above it only through hooks set here, never by importing it
# (docs/architecture.md, Layers): eager backward's code generators, and the CUDA backend's
# eager ops. Each loads its module on first use, so `import stepjit` loads no codegen.
from . import dispatch as _dispatch  # noqa: E402
from .autograd import generators as _generators  # noqa: E402


def _derive_vjp(*args):
    """codegen/eager_vjp.py's derive, imported when the first backward plan needs one."""
    from .codegen.eager_vjp import derive
    _generators.derive_vjp = derive
    return derive(*args)


def _write_tape(*args):
    """codegen/tape_function.py's write, imported when the first recurring tape needs one."""
    from .codegen.tape_function import write
    _generators.write_tape = write
    return write(*args)


_generators.derive_vjp, _generators.write_tape = _derive_vjp, _write_tape


class _CudaOnFirstOp:
    """dispatch.DEVICE until the first op on a CUDA tensor, which loads the CUDA backend
    (programs/cuda.py, numba.cuda) and puts the module there in its place."""

    def __getattr__(self, name):
        from .programs import cuda as backend
        _dispatch.DEVICE = backend
        return getattr(backend, name)


_dispatch.DEVICE = _CudaOnFirstOp()

if config.report_dir():   # an HTML report of the whole run, at exit
    from .cli.report import write_at_exit
    write_at_exit(config.report_dir())
from . import functional  # noqa: E402,F401  (torch.functional; after every name it re-exports)

from .ops.methods import INPLACE_FUNCTIONS as _INPLACE, inplace_function as _inplace_fn  # noqa: E402
globals().update({_name: _inplace_fn(_name) for _name in _INPLACE})

# Less common names (stepjit/ops/extras.py, nn/torch_forms.py, amp.py, unprovided.py)
from .ops.extras import (  # noqa: E402,F401
    fill, frombuffer, is_warn_always_enabled, isreal, set_flush_denormal, set_warn_always)
from .ops.index import index_put  # noqa: E402,F401
from .ops.shape import unflatten  # noqa: E402,F401
from .ops.spellings import get_device  # noqa: E402,F401
from .autograd.anomaly_mode import set_anomaly_enabled  # noqa: E402,F401
from .amp import (  # noqa: E402,F401
    clear_autocast_cache, get_autocast_cpu_dtype, get_autocast_gpu_dtype,
    is_autocast_cache_enabled, is_autocast_cpu_enabled, set_autocast_cache_enabled,
    set_autocast_cpu_dtype, set_autocast_cpu_enabled, set_autocast_dtype, set_autocast_enabled,
    set_autocast_gpu_dtype)
from .nn.torch_forms import TENSOR_METHODS as _TENSOR_METHODS  # noqa: E402
for _name, _fn in _TENSOR_METHODS.items():
    setattr(Tensor, _name, _fn)
sinc_ = _ops.methods.METHODS["sinc_"]
from .unprovided import ao, export, fx, hub, quantization  # noqa: E402,F401
from .unprovided import mtia, xpu  # noqa: E402,F401
from .ops.extras import from_dlpack, index_reduce, nonzero_static  # noqa: E402,F401
from .ops.removed import FUNCTIONS as _REMOVED  # noqa: E402
globals().update(_REMOVED)   # torch.solve, lstsq, eig, symeig, matrix_rank: PyTorch's errors
from .linalg import cholesky_inverse, cholesky_solve, triangular_solve  # noqa: E402,F401
from .defaults import (  # noqa: E402,F401
    get_deterministic_debug_mode, is_deterministic_algorithms_warn_only_enabled,
    set_deterministic_debug_mode)
from .errors import AcceleratorError, OutOfMemoryError  # noqa: E402,F401
from .amp import GradScaler  # noqa: E402,F401
from .control_flow import cond, while_loop  # noqa: E402,F401
resize_as_ = _ops.methods.METHODS["resize_as_"]
arccosh_, arcsinh_, arctanh_ = (_ops.methods.inplace_function(n)
                                for n in ("arccosh_", "arcsinh_", "arctanh_"))
has_lapack = True      # NumPy's LAPACK serves linalg
cuda.OutOfMemoryError = OutOfMemoryError


def is_vulkan_available():
    return False
from .ops.extras import i0  # noqa: E402,F401
i0_ = _ops.methods.METHODS["i0_"]
