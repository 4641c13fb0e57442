"""The discrete Fourier transform, on complex numbers held as real pairs.

A complex tensor is a real tensor of shape [..., 2] (ops/complex_numbers.py), so one
primitive serves every transform of `torch.fft`: `fft` maps a pair tensor to a pair tensor,

    out[k] = scale * sum_j x[j] exp(-+2 pi i j k / n)      over each axis in `axes`

(`inverse` picks the sign: + for the inverse transform), `axes` counting the complex
dimensions (never the pair's last one) and `scale` the normalization (1, 1/n or 1/sqrt(n) of
PyTorch's `norm=` modes, n the product of the transformed sizes). The real transforms (rfft,
irfft, rfftn, irfftn) are compositions of it with slicing, flipping and conjugation in the
front end (stepjit/fft.py).

The map is linear over the reals, and its adjoint is the same sum with the opposite sign: the
gradient of the pair is the transform of the output gradient with `inverse` flipped and the
same scale, which is PyTorch's convention (the pair's gradient is the conjugate Wirtinger
gradient, view_as_real(z.grad)).
"""
from __future__ import annotations

import numpy as np

from ...errors import ShapeError
from ..registry import Primitive, bind, register
from ..types import AVal, FLOAT


def _fft_rule(x, axes, inverse, scale):
    if x.ndim < 1 or x.shape[-1] != 2 or x.dtype.category != FLOAT:
        raise ShapeError(f"expected a complex tensor as a real pair [..., 2], got "
                         f"{x.dtype.name} {list(x.shape)}")
    if any(not 0 <= a < x.ndim - 1 for a in axes) or len(set(axes)) != len(axes):
        raise ShapeError(f"axes {list(axes)} out of range for a complex tensor of "
                         f"{x.ndim - 1} dimensions")
    return AVal(x.shape, x.dtype)


def _fft_impl(x, axes, inverse, scale):
    z = x[..., 0] + 1j * x[..., 1]      # complex64 from float32, complex128 from float64
    if inverse:
        out = np.fft.ifftn(z, axes=axes, norm="forward")   # "forward": no 1/n on the inverse
    else:
        out = np.fft.fftn(z, axes=axes, norm="backward")
    if scale != 1.0:
        out = out * scale
    return np.stack([out.real, out.imag], axis=-1).astype(x.dtype, copy=False)


fft = register(Primitive(
    "fft", "matmul", _fft_impl, _fft_rule, inputs=("x",), attrs=("axes", "inverse", "scale"),
    vjp=(lambda g, axes, inverse, scale: bind(fft, g, axes=axes, inverse=not inverse,
                                              scale=scale),),
    jvp="linear", grad_name="FftC2CBackward0", lowering="impl", accumulates=True))
