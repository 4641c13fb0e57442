"""The Tensor: storage, autograd state, and the methods users reach for.

Every computing method ends in `dispatch.apply`; in-place methods compute the
functional result the same way and then `dispatch.store` it, so eager runs and
traces share one code path. The methods' bodies live in `stepjit.ops`; this
module binds them and keeps what is specific to a tensor object: the leaf /
grad_fn bookkeeping, the version counter, `.grad`, `.data`, hooks and printing.
"""
from __future__ import annotations

import numbers
import warnings
import weakref

import numpy as np

from . import cuda as _cuda
from . import layouts as _layouts
from . import dispatch
from .autograd.gradients import backward as _backward
from .autograd.grad_mode import STATE as GRAD
from .autograd import forward_ad as _forward_ad, view_writes
from .autograd.forward_ad import STATE as _FORWARD
from .autograd.engine import POST_ACCUMULATE
from .autograd.node import AccumulateGrad
from .meta import MetaArray
from .errors import DTypeError, ShapeError, op_error, user_location
from .ir.bfloat16 import from_bfloat16
from .ir.types import FLOAT, AVal, DType, as_dtype, bfloat16, default_float


class Version:
    """Shared by a tensor and its views and detached aliases; bumped by every in-place write.
    `value` starts as the class default, so making one (every op's result) runs no __init__;
    the first bump gives the instance its own."""
    value = 0


class Size(tuple):
    __module__ = "stepjit"   # type(x.shape) prints as PyTorch's torch.Size does
    def __repr__(self) -> str:
        return f"stepjit.Size([{', '.join(str(d) for d in self)}])"

    def numel(self) -> int:
        n = 1
        for d in self:
            n *= d
        return n


class device:
    __module__ = "stepjit"
    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if isinstance(type, int) and not isinstance(type, bool):   # device(0): accelerator 0
            if not _cuda.is_available():
                raise RuntimeError("Cannot access accelerator device when none is available.")
            type, index = "cuda", type
        if ":" in type:
            type, idx = type.split(":")
            index = int(idx)
        if type not in ("cpu", "cuda", "meta"):
            raise RuntimeError(f"Expected one of cpu, cuda, meta device type at start of device "
                               f"string: {type}")
        self.type = type
        self.index = index

    def __enter__(self):
        """`with torch.device('meta'):` factories (and layers' parameters) default to it."""
        _DEVICE_STACK.append(DEFAULT_DEVICE.device)
        DEFAULT_DEVICE.device = self
        return self

    def __exit__(self, *exc):
        DEFAULT_DEVICE.device = _DEVICE_STACK.pop()
        return False

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")
META = device("meta")


class _DefaultDevice:
    """Where factories put tensors given no device= (None: the CPU); set by
    defaults.set_default_device and by `with device(...)` blocks."""
    __slots__ = ("device",)

    def __init__(self):
        self.device = None


DEFAULT_DEVICE = _DefaultDevice()
_DEVICE_STACK = []   # the default devices `with device(...)` blocks replaced


def _dtype_of(d):
    """The DType of non-NumPy storage: an IR Value while tracing, or a CUDA device array."""
    return d.dtype if isinstance(d.dtype, DType) else dispatch.dtype_of_array(d)
CUDA0 = device("cuda", 0)

_LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
_NONLEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access "
    "the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead.")


_new = object.__new__


class _RemovableHandle:
    def __init__(self, hooks, fn):
        self._hooks = hooks
        self._fn = fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


_STATE = ("_data", "_requires_grad", "_grad", "_grad_fn", "_output_nr", "_version",
          "_retains_grad", "_hooks", "_accumulator", "_base", "_view")


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _is_size(x):
    return isinstance(x, Size)


def _unwritable(t) -> str:
    """Why an in-place op can't write into `t`'s array: NumPy marks an expand()ed view
    (elements sharing memory, which PyTorch refuses to write) and a non-writeable array handed
    to from_numpy read-only."""
    data = t._data
    if any(st == 0 and n > 1 for st, n in zip(data.strides, data.shape)):
        made = [prim.name for prim, _ in (t._view[1] if t._view is not None else ())
                if prim.unview is None]
        return ("unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location" + (f" (it is the result of {made[-1]})" if made
                                                 else "") +
                ". Please clone() the tensor before performing the operation.")
    return ("the tensor's memory is read-only (a NumPy array that is not writeable, given to "
            "from_numpy or as_tensor). Please clone() the tensor before performing the operation.")


class Tensor:
    __module__ = "stepjit"   # type(t) prints <class 'stepjit.Tensor'>, as PyTorch's torch.Tensor
    __slots__ = _STATE + ("__weakref__", "__dict__")
    __hash__ = object.__hash__
    _fw = None   # (dual level, tangent) while forward-mode AD gives it one (autograd/forward_ad.py)

    def __init__(self, *args, dtype=None, requires_grad=False, device=None):
        """PyTorch's legacy constructor: `Tensor(2, 3)` or `Tensor(Size)` is a size (zeros
        here, where PyTorch leaves memory uninitialized), `Tensor(other)` shares other's
        storage, anything else is data, of the default float dtype unless dtype= says."""
        from .ops.creation import _array_argument, _array_from, tensor
        if len(args) == 1 and _array_argument(args[0]):
            # a compiled step's NumPy input (tracer/arrays.py): its copy, as data is copied
            args = (tensor(args[0], dtype=dtype or default_float()),)
        if len(args) == 1 and isinstance(args[0], Tensor):
            Tensor._init(self, args[0]._data)
            self._version = args[0]._version     # one storage: in-place writes seen by both
            dispatch.adopt(self)
        elif args and (all(_is_int(a) for a in args) or (len(args) == 1 and _is_size(args[0]))):
            sizes = tuple(args[0]) if _is_size(args[0]) else args
            if any(int(n) < 0 for n in sizes):
                raise RuntimeError(f"Trying to create tensor with negative dimension "
                                   f"{min(sizes)}: {list(sizes)}")
            Tensor._init_constant(self, np.zeros(tuple(int(n) for n in sizes),
                                                 (as_dtype(dtype) if dtype else default_float()).np))
        elif len(args) == 1 and isinstance(args[0], (numbers.Number, np.generic)):
            raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
        elif len(args) <= 1:
            Tensor._init_constant(self, _array_from(args[0] if args else [],
                                                    dtype or default_float()))
        else:
            raise TypeError(f"Tensor(): expected a size (ints), a Size, a sequence or a tensor, "
                            f"got ({', '.join(type(a).__name__ for a in args)})")
        if requires_grad:
            self.requires_grad = True

    # -- construction ---------------------------------------------------------
    @staticmethod
    def _init(t, data):
        """Give `t` (made without _make) a fresh tensor's state: _make's, field by field."""
        fresh = Tensor._make(data)
        for name in _STATE:
            setattr(t, name, getattr(fresh, name))

    @staticmethod
    def _init_constant(t, array):
        """_init with new data: while a step is traced, a constant of the trace (as tensor(...)
        makes) that the tracer knows t holds, not a concrete tensor it would take for outside
        state and replay with what the last call left in it (`loss = Tensor([0]); loss += l`)."""
        fresh = dispatch.constant(array)
        for name in _STATE:
            setattr(t, name, getattr(fresh, name))
        dispatch.adopt(t)

    @classmethod
    def _make(cls, data):
        """A new tensor holding `data`. Every op's result is made here, so the stores are
        written out (the one list of a tensor's fields and their start values)."""
        t = _new(cls)
        t._data = data
        t._requires_grad = False
        t._grad = None
        t._grad_fn = None
        t._output_nr = 0
        t._version = Version()
        t._retains_grad = False
        t._hooks = None
        t._accumulator = None
        t._base = None
        t._view = None   # how a view was made from its root (autograd/view_writes.py)
        return t

    def _aval(self) -> AVal:
        d = self._data
        if isinstance(d, np.ndarray):
            return AVal(d.shape, dispatch.dtype_of_array(d))
        return AVal(tuple(d.shape), _dtype_of(d))

    def _owns_storage(self) -> bool:
        d = self._data
        return not isinstance(d, np.ndarray) or (d.base is None and d.flags.writeable)

    # -- metadata -------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        return Size(self._data.shape) if dim is None else self._data.shape[dim]

    @property
    def dtype(self) -> DType:
        d = self._data
        return dispatch.dtype_of_array(d) if isinstance(d, np.ndarray) else _dtype_of(d)

    @property
    def ndim(self) -> int:
        return len(self._data.shape)

    def dim(self) -> int:
        return len(self._data.shape)

    def numel(self) -> int:
        return Size(self._data.shape).numel()

    nelement = numel

    def ndimension(self) -> int:
        return len(self._data.shape)

    def element_size(self) -> int:
        return self.dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.numel() * self.dtype.itemsize

    @property
    def device(self):
        d = self._data
        if type(d) is np.ndarray:
            return CPU
        if type(d) is MetaArray:
            return META
        return CUDA0 if _cuda.is_device_array(d) else dispatch.trace_device(self)

    @property
    def is_meta(self) -> bool:
        return type(self._data) is MetaArray

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    # Devices and layouts stepjit has none of, asked by device-dispatching programs
    # (`if input.is_cuda or input.is_xpu:`).
    is_xpu = is_mps = is_sparse = is_quantized = is_mkldnn = is_nested = False
    layout = _layouts.strided     # (sparse COO tensors: stepjit/ops/sparse.py)

    def is_floating_point(self) -> bool:
        return self.dtype.category == FLOAT

    def is_contiguous(self, memory_format=None) -> bool:
        d = self._data
        return d.flags.c_contiguous if type(d) is np.ndarray else True

    def contiguous(self, memory_format=None):
        """self when its storage is row-major (as PyTorch), else a row-major copy (a clone, as
        PyTorch's CloneBackward0). A traced value has no strides: it is its own layout."""
        if self.is_contiguous():
            return self
        out = self.clone()
        if type(out._data) is np.ndarray:   # a lifted view's clone while tracing is a traced value
            out._data = np.ascontiguousarray(out._data)   # (clone keeps the layout, as PyTorch's)
        return out

    def __len__(self):
        if not self._data.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # -- autograd state -------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self._grad_fn is not None:
            if flag:    # a computed tensor requires grad already (PyTorch's no-op)
                return
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if flag and self.dtype.category != FLOAT:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        if self._view is not None:
            view_writes.fresh(self)
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad:
            warnings.warn(_NONLEAF_GRAD, UserWarning, stacklevel=2)
        return dispatch.read_grad(self)

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if tuple(value.shape) != tuple(self.shape):
                raise RuntimeError(f"assigned grad has data of a different size: {list(value.shape)} "
                                   f"vs {list(self.shape)}")
            if value.dtype is not self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        dispatch.write_grad(self, value)

    def _grad_edge(self):
        """The (node, output_nr) a gradient for this tensor flows into."""
        if self._view is not None:
            view_writes.fresh(self)
        if self._grad_fn is not None:
            return (self._grad_fn, self._output_nr)
        if not self._requires_grad:
            return (None, 0)
        acc = self._accumulator() if self._accumulator is not None else None
        if acc is None:
            acc = AccumulateGrad(self)
            self._accumulator = weakref.ref(acc)
        return (acc, 0)

    def retain_grad(self):
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is not None and not self._retains_grad:
            self._grad_fn.retain(self._output_nr, self)
            self._retains_grad = True

    def register_hook(self, hook):
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            return _RemovableHandle(self._hooks, hook)
        self._grad_fn.add_pre_hook(self._output_nr, hook)
        return _RemovableHandle(self._grad_fn.pre_hooks[self._output_nr], hook)

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) after each backward has accumulated this leaf's .grad (an optimizer
        step inside backward, as PyTorch's tutorial on fusing it does)."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        hooks = self.__dict__.setdefault("_post_accumulate_grad_hooks", [])
        hooks.append(hook)
        POST_ACCUMULATE[id(self)] = self
        return _RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        _backward([self], None if gradient is None else [gradient], retain_graph=retain_graph,
                 create_graph=create_graph, inputs=inputs)

    def detach(self):
        t = dispatch.alias(self)
        t._version = self._version
        return t

    def detach_(self):
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        return dispatch.alias(self)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        dispatch.replace_data(self, value)

    # -- in-place machinery ---------------------------------------------------
    def _check_inplace(self, op: str):
        if self._view is not None:
            view_writes.fresh(self)
        if GRAD.enabled and self._requires_grad:
            base = self._base
            if self._grad_fn is None:
                raise RuntimeError(f"{op}: {_LEAF_INPLACE} (at {user_location()})")
            if base is not None and base._grad_fn is None and base._requires_grad:
                raise RuntimeError(f"{op}: a view of {_LEAF_INPLACE} (at {user_location()})")

    def _assign(self, result, op: str):
        """Store `result` into self as an in-place op would, taking over its autograd history."""
        if result._data.shape != self._data.shape:  # _data: an array, or an IR Value while tracing
            raise op_error(ShapeError(f"output with shape {list(self.shape)} doesn't match the "
                                      f"broadcast shape {list(result.shape)}"), op)
        if result.dtype.category > self.dtype.category:
            raise op_error(DTypeError(f"result type {result.dtype.name} can't be cast to the "
                                      f"desired output type {self.dtype.name}"), op)
        if self._view is not None and (view_writes.differentiable(self, result)
                                       or _FORWARD.token is not None):
            # (in a dual level the root's tangent must follow the write: the rebase computes it)
            if _FORWARD.token is not None:   # the view's own tangent (its base's: by the write)
                _forward_ad.set_tangent(self, _forward_ad.tangent_of(result))
            return view_writes.write(self, result, op)
        if type(self._data) is np.ndarray and not self._data.flags.writeable:
            raise op_error(RuntimeError(_unwritable(self)), op)
        cut = None
        if GRAD.enabled and result._grad_fn is None and self._grad_fn is not None:
            # A value without history overwrites one with it (`h.copy_(c)`, `h.zero_()`,
            # `h.eq_(y)`): the old history gets no gradient from here on, as PyTorch's
            # CopyBackwards gives it zeros. Its node: the old value times 0 (only its gradient,
            # g * 0, is used).
            cut = self._snapshot() * 0
        dispatch.store(self, result)
        if result._grad_fn is not None and GRAD.enabled:
            self._grad_fn = result._grad_fn
            self._output_nr = result._output_nr
            self._requires_grad = True
        elif cut is not None:
            self._grad_fn, self._output_nr = cut._grad_fn, cut._output_nr
        return self

    def _snapshot(self):
        """A copy holding self's current value and autograd edge, for an in-place op's backward."""
        if self._view is not None:
            view_writes.fresh(self)
        d = self._data
        tracer = dispatch.MODE.tracer
        if tracer is not None:
            # Lift self first: a copy of its concrete value taken here would become a tensor of
            # this trace alone, lifted by identity and never updated, so every replay would
            # read the value self had when traced (`acc += loss` into a global accumulator).
            d = tracer.value_of(self)
        t = Tensor._make(d.copy() if isinstance(d, np.ndarray) else
                         _cuda.clone_array(d) if _cuda.is_device_array(d) else d)
        t._grad_fn = self._grad_fn
        t._output_nr = self._output_nr
        t._requires_grad = self._requires_grad
        t._accumulator = self._accumulator
        t._fw = self._fw   # (and its forward-mode tangent, if it has one)
        return t

    def _inplace(self, prim, *others, op, **attrs):
        recording = False
        if GRAD.enabled:   # (_check_inplace raises only then)
            self._check_inplace(op)
            recording = self._requires_grad or _any_requires_grad(others)
        if not recording and dispatch.inplace_fast(prim, self, others, attrs):
            return self
        src = self._snapshot() if recording else self
        return self._assign(dispatch.apply(prim, src, *others, **attrs), op)

    # -- conversion to Python and NumPy ---------------------------------------
    def item(self):
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        if self.dtype is bfloat16:   # (eager only: a trace refuses bfloat16)
            return from_bfloat16(dispatch.concrete(self)).item()
        return dispatch.concrete(self).item()

    def tolist(self):
        if self.dtype is bfloat16:
            return from_bfloat16(dispatch.concrete(self, "list")).tolist()
        return dispatch.concrete(self, "list").tolist()

    def numpy(self, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if self.dtype is bfloat16:   # (NumPy has no bfloat16: PyTorch's refusal)
            raise TypeError("Got unsupported ScalarType BFloat16")
        if _cuda.is_device_array(self._data):
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        # A view, as PyTorch's numpy() is a new array on the same memory: reshaping it in place
        # (a.shape = ...) must not reshape the tensor, and compiled calls rely on that.
        return dispatch.concrete(self, "numpy").view()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    # As PyTorch's tensors: NumPy defers to the tensor's operators (`np.float64(2.0) * t` is
    # t.__rmul__, a tensor of t's dtype, not a float64 array), and a NumPy function applied to
    # a tensor (`np.clip(t, 0., 1.)`, `np.sin(t)`) gives a tensor back, bool results as uint8.
    __array_priority__ = 1000

    def __array_wrap__(self, array, context=None, return_scalar=False):
        from .ops.creation import from_numpy
        if array.dtype == bool:
            array = array.astype(np.uint8)
        return from_numpy(np.asarray(array))

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(dispatch.concrete(self))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.category == FLOAT:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __iter__(self):
        if not self._data.shape:
            raise TypeError("iteration over a 0-d tensor")
        return iter([self[i] for i in range(self._data.shape[0])])

    def __repr__(self):
        from ._printing import tensor_repr
        if dispatch.MODE.tracer is not None and dispatch.MODE.tracer.active \
                and type(self._data) is not np.ndarray and not _cuda.is_device_array(self._data):
            # printed or formatted while a step is traced: its values, as eagerly, handed to
            # Python (the trace then describes this call only: a replay would not redo it)
            try:
                return tensor_repr(self, dispatch.concrete(self, "repr"))
            except KeyError:    # (a value of another trace, finished: its placeholder)
                pass
        return tensor_repr(self)

    def __str__(self):
        return self.__repr__()

    def __format__(self, spec):
        # PyTorch formats a plain 0-d tensor as its number (f"{loss}" prints 0.6931, not
        # tensor(0.6931)); subclasses such as Parameter and every other shape print their repr.
        if self.ndim == 0 and type(self) is Tensor:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (np.array(_cuda.to_host(self._data)), self._requires_grad))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment")
        t = type(self).__new__(type(self))
        d = self._data
        Tensor._init(t, _cuda.clone_array(d) if _cuda.is_device_array(d) else np.array(d))
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        t.__dict__.update({k: v for k, v in getattr(self, "__dict__", {}).items()})
        memo[id(self)] = t
        return t

    # -- devices and dtypes ---------------------------------------------------
    def to(self, *args, **kwargs):
        from .ops.convert import to
        return to(self, *args, **kwargs)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else device)


def _any_requires_grad(values):
    for v in values:
        if isinstance(v, Tensor) and v._requires_grad:
            return True
    return False


def _rebuild(data, requires_grad):
    t = Tensor._make(data)
    t._requires_grad = requires_grad
    return t


dispatch.Tensor = Tensor
dispatch.make_tensor = Tensor._make
