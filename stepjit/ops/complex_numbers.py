"""Complex tensors as rotary position embeddings use them (LLaMA's `precompute_freqs_cis` and
`apply_rotary_emb`): `polar`, `complex`, `view_as_complex`, `view_as_real`, `.real`/`.imag`,
`conj`, `+ - * /`, and reshaping and indexing over the complex dimensions.

A complex tensor of shape S is held as a real tensor of shape S + [2] (real part, imaginary
part): exactly the memory of PyTorch's complex64 (complex128 for float64 pairs), and exactly
what `view_as_real` shows. Every operation is a composition of real ops on that pair, so the
registry's primitives, their gradients and both backends serve complex numbers unchanged,
eagerly and compiled:

    polar(r, t)      stack([r cos t, r sin t], -1)
    z * w            stack([a c - b d, a d + b c], -1)      (z = a + bi, w = c + di)
    z / w            (z * conj w) / (c^2 + d^2)
    view_as_complex  the pair itself;   view_as_real(z): a view of it

Gradients follow PyTorch's convention for free: PyTorch's gradient of a real loss L with
respect to z = x + iy is the conjugate Wirtinger form dL/dx + i dL/dy, and the pair's gradient
is (dL/dx, dL/dy), so `view_as_real(z.grad)` is the pair's gradient.

A ComplexTensor is a Tensor (isinstance, register_buffer, Module.to work) whose `_data` refuses
to be read: any op not written here reaches the real primitives' dispatch, which reads `_data`,
and gets a RuntimeError naming the op, the shape and the user's line, never a value computed
on the pair as if it were real.
"""
from __future__ import annotations

import copy
import math
import operator
import sys
import warnings

import numpy as np

from .._printing import complex_repr
from ..errors import user_location
from ..ir.types import DType, as_dtype, bool_, complex64, complex128, float32, float64
from ..tensor import Size, Tensor
from .reduce import _rename
from .creation import tensor, zeros_like
from .elementwise import where
from .mathfns import atan2
from .shape import broadcast_tensors, stack

_REAL_OF = {complex64: float32, complex128: float64}
_COMPLEX_OF = {float32: complex64, float64: complex128}
_COVERED = ("stepjit's complex tensors cover rotary embeddings and a few functions: polar, "
            "complex, view_as_complex, view_as_real, .real, .imag, conj, + - * /, abs, angle, "
            "exp, sum, mean, view/reshape/flatten/indexing/unsqueeze/transpose, to, clone, "
            "detach")


def _op_name() -> str:
    """The op a refused `_data` read came from: the innermost primitive being applied or
    public stepjit function running. (Walks frames only on this error path.)"""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_PKG):
        prim = f.f_locals.get("prim")
        if hasattr(prim, "name") and hasattr(prim, "shape_rule"):
            return prim.name
        if not f.f_code.co_name.startswith("_"):
            return f.f_code.co_name
        f = f.f_back
    return "this op"


_PKG = __file__.rsplit("/ops/", 1)[0]


def _refuse(self):
    raise RuntimeError(f"{_op_name()}: not supported for complex tensors (got "
                       f"{self.dtype.name} {list(self.shape)}, at {user_location()}); "
                       f"{_COVERED}")


def _pair_field(name):
    return property(lambda self: getattr(self._pair, name))


class ComplexTensor(Tensor):
    """A complex tensor: `_pair` is its real tensor of shape [..., 2]."""
    __slots__ = ("_pair",)

    _data = property(_refuse)
    _requires_grad = _pair_field("_requires_grad")
    _grad_fn = _pair_field("_grad_fn")
    _output_nr = _pair_field("_output_nr")
    _version = _pair_field("_version")
    _grad = _pair_field("_grad")
    _base = _pair_field("_base")
    _view = _pair_field("_view")
    _hooks = _pair_field("_hooks")
    _retains_grad = _pair_field("_retains_grad")
    _accumulator = _pair_field("_accumulator")
    _fw = None

    # (a hook would see the pair's real gradient, not PyTorch's complex one: refused)
    def register_hook(self, hook):
        _refuse(self)

    def retain_grad(self):
        _refuse(self)

    def __init__(self, *args, **kwargs):
        raise TypeError("complex tensors are made by polar, complex or view_as_complex")

    @staticmethod
    def of(pair):
        z = Tensor.__new__(ComplexTensor)
        z._pair = pair
        return z

    # -- what a tensor answers ------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._pair.shape[:-1])

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    @property
    def ndim(self) -> int:
        return self._pair.ndim - 1

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return self.shape.numel()

    nelement = numel

    @property
    def dtype(self) -> DType:
        return _COMPLEX_OF[self._pair.dtype]

    def element_size(self) -> int:
        return self.dtype.itemsize

    device = _pair_field("device")
    is_meta = _pair_field("is_meta")
    requires_grad = _pair_field("requires_grad")
    grad_fn = _pair_field("grad_fn")
    is_leaf = _pair_field("is_leaf")

    @requires_grad.setter
    def requires_grad(self, flag):
        self._pair.requires_grad = flag

    def requires_grad_(self, requires_grad=True):
        self._pair.requires_grad_(requires_grad)
        return self

    @property
    def grad(self):
        g = self._pair.grad
        return None if g is None else ComplexTensor.of(g)

    @property
    def data(self):
        return ComplexTensor.of(self._pair.data)

    def backward(self, *args, **kwargs):
        raise RuntimeError("grad can be implicitly created only for real scalar outputs")

    def is_complex(self) -> bool:
        return True

    def is_floating_point(self) -> bool:
        return False

    def is_contiguous(self, memory_format=None) -> bool:
        return self._pair.is_contiguous()

    def type(self, dtype=None, **kwargs):
        if dtype is not None:
            return self.to(dtype)
        return "stepjit.ComplexFloatTensor" if self.dtype is complex64 else \
            "stepjit.ComplexDoubleTensor"

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return complex_repr(self)

    # copies and pickles (copy.deepcopy(model) with a complex buffer): of the pair
    def __deepcopy__(self, memo):
        return ComplexTensor.of(copy.deepcopy(self._pair, memo))

    def __reduce_ex__(self, protocol):
        return (ComplexTensor.of, (self._pair,))

    # -- values out ---------------------------------------------------------------------
    def numpy(self, force=False):
        pair = np.ascontiguousarray(self._pair.numpy(force=force))
        return pair.view(self.dtype.np)[..., 0]

    def tolist(self):
        return self.numpy().tolist()

    def item(self):
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to "
                               "Scalar")
        return complex(self.numpy().reshape(-1)[0])

    @property
    def real(self):
        return self._pair[..., 0]

    @property
    def imag(self):
        return self._pair[..., 1]

    # -- copies and moves ---------------------------------------------------------------
    def detach(self):
        return ComplexTensor.of(self._pair.detach())

    def clone(self, memory_format=None):
        return ComplexTensor.of(self._pair.clone())

    def contiguous(self, memory_format=None):
        return ComplexTensor.of(self._pair.contiguous())

    def to(self, *args, **kwargs):
        """Devices move the pair; a complex dtype picks the pair's precision; a real dtype
        keeps the real part, with PyTorch's warning."""
        dtype = kwargs.pop("dtype", None)
        rest = []
        for a in args:
            if isinstance(a, Tensor):
                rest.append(a.device)
                dtype = a.dtype
            elif isinstance(a, DType) or a is float:
                dtype = a
            else:
                rest.append(a)
        pair = self._pair.to(*rest, **kwargs)
        if dtype is None:
            return ComplexTensor.of(pair)
        if dtype in _REAL_OF:
            return ComplexTensor.of(pair.to(_REAL_OF[dtype]))
        warnings.warn("Casting complex values to real discards the imaginary part", UserWarning,
                      stacklevel=2)
        return pair[..., 0].to(as_dtype(dtype))

    def cpu(self, memory_format=None):
        return ComplexTensor.of(self._pair.cpu())

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        return ComplexTensor.of(self._pair.cuda(device))

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self, memory_format=None):
        return self.to(float32)

    def double(self, memory_format=None):
        return self.to(float64)

    # -- shapes: over the complex dimensions, the pair's last one kept --------------------
    def _dim(self, d):
        n = self.ndim
        if not -n - 1 < d < max(n, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, "
                             f"{n - 1}], but got {d})")
        return d % n if n else 0

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], DType):
            _refuse(self)   # (a reinterpretation of the bits: not covered)
        shape = _sizes(shape)
        return ComplexTensor.of(self._pair.view(*shape, 2))

    def reshape(self, *shape):
        shape = _sizes(shape)
        return ComplexTensor.of(self._pair.reshape(*shape, 2))

    def view_as(self, other):
        return self.view(*other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = self._dim(start_dim), self._dim(end_dim)
        return ComplexTensor.of(self._pair.flatten(s, e))

    def unsqueeze(self, dim):
        d = dim if dim >= 0 else dim + self.ndim + 1
        return ComplexTensor.of(self._pair.unsqueeze(d))

    def squeeze(self, dim=None):
        dims = range(self.ndim) if dim is None else [self._dim(dim)]
        shape = [n for i, n in enumerate(self.shape) if not (i in dims and n == 1)]
        return self.reshape(*shape)

    def transpose(self, dim0, dim1):
        return ComplexTensor.of(self._pair.transpose(self._dim(dim0), self._dim(dim1)))

    def permute(self, *dims):
        dims = _sizes(dims)
        return ComplexTensor.of(self._pair.permute(*[self._dim(d) for d in dims], self.ndim))

    def expand(self, *sizes):
        return ComplexTensor.of(self._pair.expand(*_sizes(sizes), 2))

    def __getitem__(self, index):
        index = index if isinstance(index, tuple) else (index,)
        return ComplexTensor.of(self._pair[index + (slice(None),)])

    # -- arithmetic -----------------------------------------------------------------------
    def conj(self):
        return ComplexTensor.of(_rename(stack([self.real, -self.imag], -1), "ConjBackward0",
                                    self._pair))

    def resolve_conj(self):
        return self   # (conj computes its values: nothing is left to resolve)

    def __neg__(self):
        return ComplexTensor.of(-self._pair)

    def __add__(self, other):
        return _sum_of(self, other, 1)

    __radd__ = __add__

    def __sub__(self, other):
        return _sum_of(self, other, -1)

    def __rsub__(self, other):
        return _sum_of(-self, other, 1)

    def __mul__(self, other):
        a, b = self.real, self.imag
        if isinstance(other, (ComplexTensor, complex)):
            c, d = _parts(other)
            out = stack([a * c - b * d, a * d + b * c], -1)
        else:   # a real tensor or number scales both parts
            out = self._pair * (other.unsqueeze(-1) if isinstance(other, Tensor) else other)
        return ComplexTensor.of(_rename(out, "MulBackward0", self._pair, _real_of(other)))

    __rmul__ = mul = __mul__

    def __truediv__(self, other):
        if not isinstance(other, (ComplexTensor, complex)):
            return ComplexTensor.of(self._pair / (other.unsqueeze(-1) if isinstance(other, Tensor)
                                                  else other))
        c, d = _parts(other)
        out = (self * _conj(other)) / (c * c + d * d)
        return ComplexTensor.of(_rename(out._pair, "DivBackward0", self._pair, _real_of(other)))

    div = __truediv__

    def __rtruediv__(self, other):
        return _as_complex(other) / self

    def add(self, other, *, alpha=1):
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        return self - (other if alpha == 1 else other * alpha)

    # -- functions of a complex number ---------------------------------------------------
    def abs(self):
        """|z| = sqrt(a^2 + b^2) (real), 0 at 0 with gradient 0 there (PyTorch's sgn(0) = 0:
        sqrt's own gradient would be 0/0)."""
        a, b = self.real, self.imag
        square = a * a + b * b
        nonzero = square > 0
        r = where(nonzero, where(nonzero, square, 1.0).sqrt(), 0.0)
        return _rename(r, "AbsBackward0", self._pair)

    __abs__ = absolute = abs

    def angle(self):
        """atan2(b, a) (real): its gradient (-b, a) / |z|^2, 0 at 0, as PyTorch's."""
        return _rename(atan2(self.imag, self.real), "AngleBackward0", self._pair)

    def exp(self):
        """e^a (cos b + i sin b)."""
        e, b = self.real.exp(), self.imag
        return ComplexTensor.of(_rename(stack([e * b.cos(), e * b.sin()], -1), "ExpBackward0",
                                        self._pair))

    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return self._reduce("sum", dim, keepdim, dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return self._reduce("mean", dim, keepdim, dtype)

    def _reduce(self, how, dim, keepdim, dtype):
        """Both parts reduced over the complex dimensions (the pair's last kept)."""
        z = self if dtype is None else self.to(dtype)
        if dim is None:
            dims = tuple(range(z.ndim))
        else:
            dims = tuple(z._dim(d) for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
        if not dims:
            return ComplexTensor.of(z._pair * 1)   # (a 0-d tensor: its value, a new tensor)
        out = getattr(z._pair, how)(dim=dims, keepdim=keepdim)
        name = f"{how.capitalize()}Backward{0 if dim is None else 1}"
        return ComplexTensor.of(_rename(out, name, z._pair))


def _sizes(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _real_of(x):
    """What a composite's node shows as the edge to operand x (autograd/node.py show_edges):
    a complex tensor's pair, a real tensor, or None for a number."""
    if isinstance(x, ComplexTensor):
        return x._pair
    return x if isinstance(x, Tensor) else None


def _parts(x):
    """(real, imag) of a complex tensor (real tensors) or of a Python complex (floats)."""
    return x.real, x.imag


def _conj(x):
    return x.conj() if isinstance(x, ComplexTensor) else x.conjugate()


def _as_complex(x):
    if isinstance(x, ComplexTensor):
        return x
    if isinstance(x, Tensor):
        return complex_(x, zeros_like(x))
    x = complex(x)
    return ComplexTensor.of(tensor([x.real, x.imag]))


def _sum_of(z, other, sign):
    """z + other (sign 1) or z - other (sign -1); a real `other` changes the real part only."""
    combine = operator.add if sign > 0 else operator.sub
    if isinstance(other, (ComplexTensor, complex)):
        c, d = _parts(other)
        re, im = combine(z.real, c), combine(z.imag, d)
    else:
        re = combine(z.real, other)
        im = z.imag.expand(*re.shape)
    return ComplexTensor.of(_rename(stack([re, im], -1),
                                    "AddBackward0" if sign > 0 else "SubBackward0",
                                    z._pair, _real_of(other)))


# -- the functions ----------------------------------------------------------------------------
def _check_pair_inputs(op, a, b):
    for x in (a, b):
        if not isinstance(x, Tensor) or x.dtype not in _COMPLEX_OF:
            names = " and ".join("Float" if y.dtype is float32 else "Double" if y.dtype is
                                 float64 else y.dtype.name.capitalize() for y in (a, b)
                                 if isinstance(y, Tensor))
            raise RuntimeError(f"{op}: Expected both inputs to be Float or Double tensors but "
                               f"got {names} (at {user_location(2)})")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{op}: Expected object of scalar type "
                           f"{'Float' if a.dtype is float32 else 'Double'} but got scalar type "
                           f"{'Float' if b.dtype is float32 else 'Double'} for second argument "
                           f"(at {user_location(2)})")


def polar(abs, angle):
    """abs * (cos(angle) + i sin(angle)), broadcast."""
    _check_pair_inputs("polar", abs, angle)
    return ComplexTensor.of(_rename(stack([abs * angle.cos(), abs * angle.sin()], -1),
                                    "PolarBackward0", abs, angle))


def complex_(real, imag):
    """real + i imag, broadcast (torch.complex)."""
    _check_pair_inputs("complex", real, imag)
    re, im = broadcast_tensors(real, imag)
    return ComplexTensor.of(_rename(stack([re, im], -1), "ComplexBackward0", real, imag))


def view_as_complex(input):
    if isinstance(input, ComplexTensor) or input.dtype not in _COMPLEX_OF:
        raise RuntimeError(f"view_as_complex is only supported for float and double tensors, "
                           f"but got a tensor of scalar type: {input.dtype.name} "
                           f"(at {user_location()})")
    if input.ndim == 0 or input.shape[-1] != 2:
        raise RuntimeError(f"view_as_complex: Tensor must have a last dimension of size 2, got "
                           f"shape {list(input.shape)} (at {user_location()})")
    return ComplexTensor.of(_rename(input.view(*input.shape), "ViewAsComplexBackward0"))


def view_as_real(input):
    if not isinstance(input, ComplexTensor):
        raise RuntimeError(f"view_as_real is only supported for complex tensors (got "
                           f"{input.dtype.name} {list(input.shape)}, at {user_location()})")
    pair = input._pair
    return _rename(pair.view(*pair.shape), "ViewAsRealBackward0")


def real(input):
    return input.real if isinstance(input, ComplexTensor) else input


def imag(input):
    if not isinstance(input, ComplexTensor):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return input.imag


def is_complex(input) -> bool:
    return isinstance(input, ComplexTensor)


# -- torch.<fn>(z, ...): a complex operand takes its own method ------------------------------
def _angle_of_real(input):
    """angle of a real tensor: pi below 0, else 0, NaN kept; its gradient 0 (PyTorch's)."""
    x = input.detach()
    value = where(x != x, x, (x < 0).to(x.dtype) * math.pi)
    return where(zeros_like(x, dtype=bool_), input, value) if input.requires_grad else value


def angle(input):
    return input.angle() if isinstance(input, ComplexTensor) else _angle_of_real(input)


def _takes_complex(name, real_fn, method=None):
    """torch.<name> that hands a complex operand to ComplexTensor's method (the real function
    would read the pair as if it were real, and refuses); real operands pay one type test."""
    method = method or name

    def call(input, *args, **kwargs):
        if type(input) is ComplexTensor:
            return getattr(input, method)(*args, **kwargs)
        if args and type(args[0]) is ComplexTensor and method in _REFLECTED:
            return getattr(args[0], _REFLECTED[method])(input, *args[1:], **kwargs)
        return real_fn(input, *args, **kwargs)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = real_fn.__doc__
    call.__wrapped__ = real_fn
    return call


# a real first operand, a complex second: (the reflected method; alpha scales the second)
_REFLECTED = {"mul": "__rmul__", "add": "_radd", "sub": "_rsub", "div": "__rtruediv__"}


def _radd(self, other, *, alpha=1):
    return (self if alpha == 1 else self * alpha) + other


def _rsub(self, other, *, alpha=1):
    return other - (self if alpha == 1 else self * alpha)


ComplexTensor._radd = _radd
ComplexTensor._rsub = _rsub

FUNCTIONS = ("abs", "absolute", "exp", "sum", "mean", "mul", "multiply", "add", "sub",
             "subtract", "div", "divide", "true_divide")
_METHOD = {"multiply": "mul", "subtract": "sub", "divide": "div", "true_divide": "div"}


def wrap_namespace(ns):
    """The public namespace's FUNCTIONS made to take complex tensors (api.py)."""
    for name in FUNCTIONS:
        if name in ns:
            ns[name] = _takes_complex(name, ns[name], _METHOD.get(name, name))
