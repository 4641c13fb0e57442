"""`torch.fft`: fft, ifft, fft2, ifft2, fftn, ifftn, rfft, irfft, rfftn, irfftn, fftshift,
ifftshift, fftfreq, rfftfreq.

Every transform is the registry's one `fft` primitive (ir/primitives/spectral.py: a complex
transform over some axes of a real pair [..., 2]) composed with real ops, so gradients and
compiled steps come from the registry as for any op:

    fft(x)      a real x becomes the pair (x, 0); `n=` pads with zeros or truncates first
    rfft(x)     fft(x), the first n // 2 + 1 bins of its last transformed dimension
    irfft(X)    X's first n // 2 + 1 bins (padded or cut), extended by the conjugates of bins
                1 .. n - n // 2 - 1 in reverse (the Hermitian half a real signal's spectrum
                has), inverse-transformed; the real part. As in PyTorch, the imaginary parts
                of the bins that are their own mirror (0, and n / 2 for an even n) drop out.
    rfftn       fftn, halved along the last transformed dimension
    irfftn      the inverse complex transform over the other dimensions, then irfft over
                the last (PyTorch's order)

`norm=` follows PyTorch: "backward" (default) scales the inverse by 1/n, "forward" the forward
transform, "ortho" both by 1/sqrt(n). Results are complex tensors (complex64 from float32 or
integer input, complex128 from float64).
"""
from __future__ import annotations

import math

from .dispatch import apply
from .errors import user_location
from .ir import primitives as P
from .ir.types import FLOAT, default_float
from .ops.complex_numbers import ComplexTensor
from .ops.creation import arange, tensor, zeros
from .ops.shape import cat, stack
from .ops.tiling import roll
from .tensor import Tensor

_NORMS = (None, "backward", "forward", "ortho")


def fft(input, n=None, dim=-1, norm=None):
    return _c2c(input, None if n is None else (n,), (dim,), norm, False, "fft")


def ifft(input, n=None, dim=-1, norm=None):
    return _c2c(input, None if n is None else (n,), (dim,), norm, True, "ifft")


def fft2(input, s=None, dim=(-2, -1), norm=None):
    return _c2c(input, s, dim, norm, False, "fft2")


def ifft2(input, s=None, dim=(-2, -1), norm=None):
    return _c2c(input, s, dim, norm, True, "ifft2")


def fftn(input, s=None, dim=None, norm=None):
    return _c2c(input, s, dim, norm, False, "fftn")


def ifftn(input, s=None, dim=None, norm=None):
    return _c2c(input, s, dim, norm, True, "ifftn")


def rfft(input, n=None, dim=-1, norm=None):
    return rfftn(input, None if n is None else (n,), (dim,), norm, "rfft")


def rfftn(input, s=None, dim=None, norm=None, _name="rfftn"):
    if isinstance(input, ComplexTensor):
        raise RuntimeError(f"{_name} expects a real input tensor, but got "
                           f"{input.dtype.name} (at {user_location()})")
    full = _c2c(input, s, dim, norm, False, _name)
    pair, last = full._pair, _dims(input, s, dim, _name)[-1]
    return ComplexTensor.of(pair.narrow(last, 0, pair.shape[last] // 2 + 1))


def irfft(input, n=None, dim=-1, norm=None):
    return irfftn(input, None if n is None else (n,), (dim,), norm, "irfft")


def irfftn(input, s=None, dim=None, norm=None, _name="irfftn"):
    pair = _pair(input)
    dims = _dims(input, s, dim, _name)
    last = dims[-1]
    n = 2 * (pair.shape[last] - 1) if s is None else int(s[-1])
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified (at "
                           f"{user_location()})")
    sizes = [pair.shape[d] for d in dims[:-1]] if s is None else list(s[:-1])
    for d, size in zip(dims[:-1], sizes):
        pair = _resized(pair, d, size)
    if dims[:-1]:    # the complex transform over the other dimensions first, as PyTorch
        pair = apply(P.fft, pair, axes=tuple(dims[:-1]), inverse=True, scale=1.0)
    half = _resized(pair, last, n // 2 + 1)
    mirror = half.narrow(last, 1, n - n // 2 - 1).flip(last) * _CONJ(half)
    full = cat([half, mirror], last)
    scale = _scale(norm, math.prod(sizes) * n, True, _name)
    return apply(P.fft, full, axes=(last,), inverse=True, scale=scale)[..., 0]


def fftshift(input, dim=None):
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    return _shift(input, dim, -1)


def fftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False):
    """[0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d * n), as PyTorch computes it."""
    dtype = dtype or default_float()
    k = cat([arange((n + 1) // 2, dtype=dtype), arange(-(n // 2), 0, dtype=dtype)])
    return _freqs(k.to(device) if device is not None else k, n, d, requires_grad)


def rfftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False):
    """[0, 1, ..., n // 2] / (d * n)."""
    k = arange(n // 2 + 1, dtype=dtype or default_float())
    return _freqs(k.to(device) if device is not None else k, n, d, requires_grad)


def _freqs(k, n, d, requires_grad):
    out = k * (1.0 / (n * d))
    if requires_grad:
        out.requires_grad_()
    return out


# -- shared steps -------------------------------------------------------------------------------
def _c2c(input, s, dim, norm, inverse, name):
    pair = _pair(input)
    dims = _dims(input, s, dim, name)
    if s is not None:
        for d, size in zip(dims, s):
            pair = _resized(pair, d, int(size))
    n = math.prod(pair.shape[d] for d in dims)
    scale = _scale(norm, n, inverse, name)
    return ComplexTensor.of(apply(P.fft, pair, axes=tuple(dims), inverse=inverse, scale=scale))


def _pair(x):
    """x as a real pair [..., 2]: a complex tensor's own, a real one's (x, 0)."""
    if isinstance(x, ComplexTensor):
        return x._pair
    if not isinstance(x, Tensor):
        raise TypeError(f"expected a tensor, got {type(x).__name__}")
    if x.dtype.category != FLOAT:
        x = x.to(default_float())
    return stack([x, x * 0.0], -1)


def _dims(input, s, dim, name):
    """The transformed dimensions, non-negative, in the order given."""
    ndim = input.ndim
    if dim is None:
        dim = tuple(range(ndim - len(s), ndim)) if s is not None else tuple(range(ndim))
    elif isinstance(dim, int):
        dim = (dim,)
    if s is not None and len(s) != len(dim):
        raise RuntimeError(f"When given, dim and shape arguments must have the same length "
                           f"(at {user_location()})")
    out = []
    for d in dim:
        if not -ndim <= d < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-ndim}, {ndim - 1}], but got {d})")
        out.append(d % ndim)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{name}: dims must be unique (at {user_location()})")
    if not out:
        raise RuntimeError(f"{name}: at least one dimension to transform (at {user_location()})")
    return out


def _resized(pair, d, n):
    """pair cut to n elements along d, or padded with zeros to n."""
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified (at "
                           f"{user_location()})")
    have = pair.shape[d]
    if n <= have:
        return pair.narrow(d, 0, n) if n < have else pair
    shape = list(pair.shape)
    shape[d] = n - have
    return cat([pair, zeros(*shape, dtype=pair.dtype)], d)


def _scale(norm, n, inverse, name):
    if norm not in _NORMS:
        raise ValueError(f"Invalid normalization mode: {norm}")
    if norm == "ortho":
        return 1.0 / math.sqrt(n)
    if (norm == "forward") != inverse:     # forward transform with "forward", inverse by default
        return 1.0 / n
    return 1.0


def _CONJ(like):
    """Multiplies a pair into its conjugate: (1, -1) in the pair's dtype."""
    return tensor([1.0, -1.0], dtype=like.dtype)


def _shift(input, dim, sign):
    dims = tuple(range(input.ndim)) if dim is None else (dim,) if isinstance(dim, int) else dim
    shifts = tuple(sign * (input.shape[d] // 2) for d in dims)
    if isinstance(input, ComplexTensor):
        return ComplexTensor.of(roll(input._pair, shifts, tuple(d % input.ndim for d in dims)))
    return roll(input, shifts, dims)
