"""Shape and movement functions: reshape, transpose, squeeze, expand, cat, stack, matmul."""
from __future__ import annotations

import functools
import math

import numpy as np

from ..dispatch import MODE, apply
from ..errors import EagerOnly, IndexingError, ShapeError, StepjitError, op_error, user_location
from ..ir import primitives as P
from ..ir.primitives.shapes import fmt, norm_axis
from ..tensor import Size
from .creation import tensor, zeros
from .reduce import _rename
from ..ir.types import AVal, as_dtype, result_type, storage_dtype
from ..tensor import Tensor


def sizes_by_keyword(name):
    """`x.reshape(shape=(2, 3))`, `x.permute(dims=(1, 0))`: PyTorch's keyword for the sizes
    (or dims) a function otherwise takes as `*sizes`."""
    def wrap(fn):
        @functools.wraps(fn)
        def by_keyword(input, *sizes, **kwargs):
            if name in kwargs:
                if sizes:
                    raise TypeError(f"{fn.__name__}() got multiple values for argument '{name}'")
                sizes = (kwargs.pop(name),)
            return fn(input, *sizes, **kwargs)
        return by_keyword
    return wrap


def _sizes(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(d) for d in shape)


def _dim(d, ndim, op):
    try:
        return norm_axis(d, ndim)[0]
    except ShapeError as e:
        raise op_error(e, op) from None


def _infer(shape, numel, op, have):
    if shape.count(-1) > 1:
        raise op_error(ShapeError("only one dimension can be inferred"), op)
    if -1 in shape:
        known = 1
        for d in shape:
            if d != -1:
                known *= d
        if known == 0 or numel % known:
            raise op_error(ShapeError(f"shape {fmt(shape)} is invalid for input of size {numel} "
                                      f"(shape {fmt(have)})"), op)
        shape = tuple(numel // known if d == -1 else d for d in shape)
    return shape


@sizes_by_keyword("shape")
def reshape(input, *shape):
    shape = _infer(_sizes(shape), input.numel(), "reshape", input.shape)
    if shape == tuple(input.shape):
        return _alias(input)
    return apply(P.reshape, input, shape=shape)


def resize_(self, *sizes, memory_format=None):
    """PyTorch's resize_: self takes the new shape, keeping its first elements in row-major
    order; elements beyond the old ones are zeros here (PyTorch leaves them uninitialized).
    Untracked by autograd, like `.data =` (and refused for a tensor that requires grad)."""
    shape = _sizes(sizes)
    if any(d < 0 for d in shape):
        raise op_error(ShapeError(f"Trying to create tensor with negative dimension "
                                  f"{min(shape)}: {list(shape)}"), "resize_")
    if self.requires_grad:
        raise RuntimeError(f"cannot resize variables that require grad (at {user_location()})")
    if shape == tuple(self.shape):
        return self
    n = math.prod(shape)
    flat = self.detach().reshape(-1)
    if n <= flat.shape[0]:
        flat = flat[:n]
    else:
        flat = cat([flat, zeros(n - flat.shape[0], dtype=self.dtype, device=self.device)])
    self.data = flat.reshape(shape)
    return self


def resize_as_(self, the_template, memory_format=None):
    return resize_(self, tuple(the_template.shape))


def view_bits(input, dtype):
    """`view(dtype)`: the same bytes read as another dtype, sharing the storage (PyTorch's
    rules: another element size scales the last dimension, which must have stride 1). Eager
    only, as PyTorch's has no gradient: what exporters do (bfloat16 bits as int16)."""
    what = f"view {input.dtype.name} as {dtype.name}"
    if MODE.tracer is not None:
        raise EagerOnly(f"view(dtype) ({what}) at {user_location()}: reinterpreting bytes is "
                        "eager only")
    data = input._data
    if type(data) is not np.ndarray:
        raise RuntimeError(f"view(dtype): {what} needs a CPU tensor (at {user_location()})")
    old, new = input.dtype.itemsize, dtype.itemsize
    if old != new:
        if data.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 to {what} (different element sizes)")
        if data.strides[-1] != old and data.shape[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 to {what} (different element sizes), "
                               f"but got {data.strides[-1] // old}")
        if (data.shape[-1] * old) % new:
            raise RuntimeError(f"self.size(-1) must be divisible by {new // old} to {what} "
                               f"(different element sizes), but got {data.shape[-1]}")
    out = Tensor._make(data.view(dtype.np))
    out._version = input._version   # one storage: writes through either are seen by both
    return out


def _alias(input):
    """A view with the same shape (PyTorch returns a new tensor object here too)."""
    return apply(P.reshape, input, shape=tuple(input.shape))


@sizes_by_keyword("size")
def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        dtype = storage_dtype(shape[0])
        return _alias(input) if dtype is input.dtype else view_bits(input, dtype)
    shape = _infer(_sizes(shape), input.numel(), "view", input.shape)
    _check_viewable(input, shape)
    return reshape(input, shape)


def _check_viewable(input, shape):
    """PyTorch's view never copies: a shape the strides cannot express raises (a copy would
    silently drop a write made through the 'view'). Checked on the eager storage; inside a
    compiled step values have no strides to check."""
    import numpy as np
    data = input._data
    if type(data) is not np.ndarray or data.size == 0 or data.shape == shape:
        return
    try:
        np.reshape(data, shape, copy=False)   # raises where NumPy (as PyTorch) needs a copy
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride "
                           "(at least one dimension spans across two contiguous subspaces). "
                           f"Use .reshape(...) instead. (view of shape {fmt(input.shape)} "
                           f"to {fmt(shape)}, at {user_location(2)})") from None


def ravel(input):
    return reshape(input, -1)


def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, 1)
    s = _dim(start_dim, input.ndim, "flatten")
    e = _dim(end_dim, input.ndim, "flatten")
    shape = tuple(input.shape)
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def unflatten(input, dim, sizes):
    d = _dim(dim, input.ndim, "unflatten")
    shape = tuple(input.shape)
    sizes = _infer(tuple(sizes), shape[d], "unflatten", shape)
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


@sizes_by_keyword("dims")
def permute(input, *dims):
    dims = _sizes(dims)
    perm = tuple(_dim(d, input.ndim, "permute") for d in dims)
    if len(perm) != input.ndim or sorted(perm) != list(range(input.ndim)):
        raise op_error(ShapeError(f"dims {list(dims)} are not a permutation of a tensor of "
                                  f"{input.ndim} dimensions"), "permute")
    return apply(P.transpose, input, perm=perm)


def transpose(input, dim0, dim1):
    n = input.ndim
    if n == 0:
        return _alias(input)
    a, b = _dim(dim0, n, "transpose"), _dim(dim1, n, "transpose")
    perm = list(range(n))
    perm[a], perm[b] = perm[b], perm[a]
    return _rename(apply(P.transpose, input, perm=tuple(perm)), "TransposeBackward0")


swapaxes = transpose


def t(input):
    if input.ndim > 2:
        raise op_error(ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                                  f"{input.ndim}D"), "t")
    if input.ndim < 2:
        return _alias(input)
    return _rename(apply(P.transpose, input, perm=(1, 0)), "TBackward0")


def mT(input):
    n = len(input._data.shape)
    if n < 2:
        raise op_error(ShapeError("tensor.mT is only supported on matrices or batches of matrices"), "mT")
    return apply(P.transpose, input, perm=_SWAP_LAST.get(n) or tuple(range(n - 2)) + (n - 1, n - 2))


_SWAP_LAST = {2: (1, 0), 3: (0, 2, 1)}


def T(input):
    return apply(P.transpose, input, perm=tuple(reversed(range(input.ndim))))


def unsqueeze(input, dim):
    d = _dim(dim, input.ndim + 1, "unsqueeze")
    shape = tuple(input.shape)
    return _rename(reshape(input, shape[:d] + (1,) + shape[d:]), "UnsqueezeBackward0")


def squeeze(input, dim=None):
    shape = tuple(input.shape)
    if dim is None:
        axes = [i for i, s in enumerate(shape) if s == 1]
    else:
        axes = [a for a in norm_axis(dim, input.ndim) if shape and shape[a] == 1]
    new = tuple(s for i, s in enumerate(shape) if i not in axes)
    return _rename(reshape(input, new), "SqueezeBackward0" if dim is None else "SqueezeBackward1")


@sizes_by_keyword("size")
def expand(input, *sizes):
    sizes = _sizes(sizes)
    have = input._data.shape   # an array's shape, or an IR Value's while tracing
    lead = len(sizes) - len(have)
    if lead < 0:
        raise op_error(ShapeError(f"the number of sizes provided ({len(sizes)}) must be greater or "
                                  f"equal to the number of dimensions in the tensor ({len(have)})"),
                       "expand")
    shape = tuple(have[i - lead] if d == -1 and i >= lead else d for i, d in enumerate(sizes))
    if shape == tuple(have):
        return _alias(input)
    return apply(P.expand, input, shape=shape)


def expand_as(input, other):
    return expand(input, tuple(other.shape))


broadcast_to = expand


def broadcast_shapes(*shapes):
    """The shape NumPy/PyTorch broadcasting gives these shapes (ints count as 1-D shapes)."""
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise op_error(ShapeError(f"Shape mismatch: objects cannot be broadcast to a single "
                                  f"shape: {', '.join(str(list(s)) for s in shapes)}"),
                       "broadcast_shapes") from None


def broadcast_tensors(*tensors):
    """Each tensor expanded (a view) to the tensors' common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(expand(t, tuple(shape)) for t in tensors)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise op_error(ShapeError("expected a non-empty list of Tensors"), "cat")
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) > 1:     # PyTorch's cat promotes (uint8 with int8 is int16)
        common = result_type(*(AVal(tuple(t.shape), t.dtype) for t in tensors))
        tensors = [t if t.dtype is common else t.to(common) for t in tensors]
    ref = next((t for t in tensors if not _legacy_empty(t)), tensors[0])
    axis = _dim(dim, ref.ndim, "cat")
    if ref.ndim != 1:
        tensors = [_as_empty_part(t, ref, axis) for t in tensors]
    return apply(P.concat, *tensors, axis=axis)


def _legacy_empty(t):
    return t.ndim == 1 and t.shape[0] == 0


def _as_empty_part(t, ref, axis):
    """PyTorch's cat skips 1-D empty tensors (the legacy `torch.FloatTensor()` a loop starts
    from): such a tensor joins as ref's shape with 0 along the cat axis, a reshape, so it
    still gets its (empty) gradient."""
    if not _legacy_empty(t):
        return t
    shape = list(ref.shape)
    shape[axis] = 0
    return t.reshape(shape)


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise op_error(ShapeError("stack expects a non-empty TensorList"), "stack")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise op_error(ShapeError("stack expects each tensor to be equal size, but got "
                                  + ", ".join(fmt(t.shape) for t in tensors)), "stack")
    d = _dim(dim, tensors[0].ndim + 1, "stack")
    return _rename(cat([unsqueeze(t, d) for t in tensors], d), "StackBackward0", *tensors)


def split(input, split_size_or_sections, dim=0):
    d = _dim(dim, input.ndim, "split")
    n = input.shape[d]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0 and not (split_size_or_sections == 0 and n == 0):
            raise op_error(ShapeError(f"split_size can only be 0 if dimension size is 0, but got "
                                      f"dimension size of {n} (split_size "
                                      f"{split_size_or_sections})"), "split")
        step = max(split_size_or_sections, 1)
        sizes = [min(step, n - s) for s in range(0, n, step)]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise op_error(ShapeError(f"split_with_sizes expects split_sizes to sum exactly to "
                                      f"{n} (input tensor's size at dimension {d}), but got "
                                      f"split_sizes={sizes}"), "split")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(input, d, start, s))
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    n = input.shape[_dim(dim, input.ndim, "chunk")]
    return split(input, -(-n // chunks), dim)


def narrow(input, dim, start, length):
    """input's elements start..start+length-1 along dim. Unlike a slice, a range past the end
    is an error (PyTorch's), not a shorter result; a negative start counts from the end."""
    d = _dim(dim, input.ndim, "narrow")
    size, start, length = input.shape[d], int(start), int(length)
    if not -size <= start <= size:
        raise op_error(IndexingError(f"start out of range (expected to be in range of "
                                     f"[{-size}, {size}], but got {start})"), "narrow")
    if length < 0:
        raise op_error(StepjitError("length must be non-negative"), "narrow")
    start %= max(size, 1)
    if start + length > size:
        raise op_error(ShapeError(f"start ({start}) + length ({length}) exceeds dimension size "
                                  f"({size}) of a tensor of shape {fmt(input.shape)}"), "narrow")
    key = ((None, None, None),) * d + ((start, start + length, None),)
    return apply(P.slice, input, key=key)


def select(input, dim, index):
    """input[..., index, ...] along dim: a view without that dimension."""
    d = _dim(dim, input.ndim, "select")
    n = input.shape[d]
    if not -n <= index < n:
        raise op_error(IndexingError(f"index {index} out of range for tensor of size "
                                     f"{list(input.shape)} at dimension {d}"), "select")
    return apply(P.slice, input, key=((None, None, None),) * d + (index % n,))


def unfold(input, dimension, size, step):
    """Tensor.unfold: every window of `size` elements along `dimension`, `step` apart; the
    windows replace that dimension and their elements form a new last dimension. One gather of
    the window indices (its gradient a scatter-add), so it compiles like any index."""
    d = _dim(dimension, max(input.ndim, 1), "unfold")
    n = input.shape[d] if input.ndim else 1
    if size > n or size < 0:
        raise op_error(ShapeError(f"maximum size for tensor at dimension {d} is {n} but size "
                                  f"is {size}"), "unfold")
    if step <= 0:
        raise op_error(ShapeError(f"step is {step} but must be > 0"), "unfold")
    if input.ndim == 0:
        return reshape(input, (1,))
    count = (n - size) // step + 1
    windows = np.arange(count)[:, None] * step + np.arange(size)[None, :]
    picked = apply(P.gather, input, tensor(windows.reshape(-1)),
                   key=((None, None, None),) * d + ("T",))
    shape = tuple(input.shape[:d]) + (count, size) + tuple(input.shape[d + 1:])
    return movedim(reshape(picked, shape), d + 1, -1)


def unbind(input, dim=0):
    d = _dim(dim, input.ndim, "unbind")
    return tuple(apply(P.slice, input, key=((None, None, None),) * d + (i,))
                 for i in range(input.shape[d]))


def tensor_arg(x, op, name, position):
    """x, when it is a Tensor; else PyTorch's TypeError for an op that takes only tensors."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, "
                        f"not {type(x).__name__}")
    return x


def _sparse_operand(a, b):
    """The sparse COO operand of a product, if any (stepjit/ops/sparse.py computes it); None
    at once when both are dense tensors, the common case."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return None
    return next((x for x in (a, b) if getattr(x, "is_sparse", False) is True), None)


def matmul(input, other):
    """torch.matmul: 1-D operands gain and then lose a unit dimension around the 2-D primitive."""
    sparse = _sparse_operand(input, other)
    if sparse is not None:
        return sparse.sparse_mm(input, other)
    a, b = tensor_arg(input, "matmul", "input", 1), tensor_arg(other, "matmul", "other", 2)
    an, bn = len(a._data.shape), len(b._data.shape)   # _data: an array, or an IR Value
    if an == 2 and bn == 2:
        return apply(P.matmul, a, b)
    if an == 0 or bn == 0:
        raise op_error(ShapeError(f"both arguments to matmul need to be at least 1D, but they are "
                                  f"{an}D and {bn}D"), "matmul")
    if an == 1 and bn == 1:
        if a.shape[0] != b.shape[0]:
            raise op_error(ShapeError(f"inconsistent tensor size, expected tensor {fmt(a.shape)} and "
                                      f"src {fmt(b.shape)} to have the same number of elements"), "dot")
        out = apply(P.matmul, reshape(a, 1, -1), reshape(b, -1, 1))
        return _rename(reshape(out, ()), "DotBackward0")
    if an == 1:
        return _rename(squeeze(apply(P.matmul, unsqueeze(a, 0), b), -2), "SqueezeBackward1")
    if bn == 1:
        return _rename(squeeze(apply(P.matmul, a, unsqueeze(b, 1)), -1), "MvBackward0")
    return _rename(apply(P.matmul, a, b), "BmmBackward0")


def mm(input, mat2):
    sparse = _sparse_operand(input, mat2)
    if sparse is not None:
        return sparse.sparse_mm(input, mat2)
    tensor_arg(input, "mm", "input", 1)
    tensor_arg(mat2, "mm", "mat2", 2)
    if len(input._data.shape) != 2 or len(mat2._data.shape) != 2:
        raise op_error(ShapeError(f"mm expects 2-D tensors, got {fmt(input.shape)} and "
                                  f"{fmt(mat2.shape)}"), "mm")
    return apply(P.matmul, input, mat2)


def mv(input, vec):
    """Matrix @ vector: matmul restricted to a 2-D and a 1-D operand, as torch.mv."""
    tensor_arg(input, "mv", "input", 1)
    tensor_arg(vec, "mv", "vec", 2)
    if input.ndim != 2 or vec.ndim != 1:
        raise op_error(ShapeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, "
                                  f"{vec.ndim}"), "mv")
    if input.shape[1] != vec.shape[0]:
        raise op_error(ShapeError(f"size mismatch, got input ({input.shape[0]}), mat "
                                  f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})"),
                       "mv")
    return matmul(input, vec)


def bmm(input, mat2):
    tensor_arg(input, "bmm", "input", 1)
    tensor_arg(mat2, "bmm", "mat2", 2)
    if input.ndim != 3 or mat2.ndim != 3:
        raise op_error(ShapeError(f"bmm expects 3-D tensors, got {fmt(input.shape)} and "
                                  f"{fmt(mat2.shape)}"), "bmm")
    return _rename(apply(P.matmul, input, mat2), "BmmBackward0")


def dot(input, other):
    tensor_arg(input, "dot", "input", 1)
    tensor_arg(other, "dot", "tensor", 2)
    if input.ndim != 1 or other.ndim != 1:
        raise op_error(ShapeError("1D tensors expected, but got "
                                  f"{input.ndim}D and {other.ndim}D tensors"), "dot")
    return matmul(input, other)


def outer(input, vec2):
    return apply(P.mul, unsqueeze(input, 1), unsqueeze(vec2, 0))


def flip(input, dims):
    if isinstance(dims, int):
        raise TypeError(f"flip(): argument 'dims' must be tuple of ints, not int")
    key = [(None, None, None)] * input.ndim
    for d in norm_axis(dims, input.ndim):
        key[d] = (None, None, -1)
    return apply(P.slice, input, key=tuple(key))


def movedim(input, source, destination):
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    n = input.ndim
    if len(src) != len(dst):
        raise op_error(ShapeError(f"movedim: Invalid source or destination dims: source ({list(src)}"
                                  f" dims) should contain the same number of dims as destination "
                                  f"({list(dst)} dims)"), "movedim")
    src = tuple(_dim(d, n, "movedim") for d in src)
    dst = tuple(_dim(d, n, "movedim") for d in dst)
    perm = [None] * n
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(i for i in range(n) if i not in src)
    perm = tuple(next(rest) if p is None else p for p in perm)
    if perm == tuple(range(n)):
        return _alias(input)
    return apply(P.transpose, input, perm=perm)


moveaxis = movedim
