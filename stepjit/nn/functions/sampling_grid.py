"""affine_grid and grid_sample (the spatial transformer's pair), as composites.

affine_grid is the base grid of normalized pixel centres (x, y, 1) times theta^T, written as
the three products summed in PyTorch's order (elementwise, so theta's gradient comes from the
elementwise rules). grid_sample
turns the grid into pixel coordinates, reads the four neighbours (bilinear) or the nearest
pixel with one `gather` each on the channels-last input, and weights them by the distances;
out-of-range neighbours read a clamped index times a zero mask ('zeros') or the clamped
edge ('border'). Gradients reach the input through the gathers' scatter-add and the grid
through the weights (floor has none), as PyTorch's do.
"""
from __future__ import annotations

import warnings

from ...dispatch import apply
from ...errors import ShapeError, op_error
from ...ir import primitives as P
from ...ir.primitives.shapes import fmt
from ...ir.types import int64
from ...ops.creation import arange, linspace
from ...ops.shape import stack


def _align(align_corners, op):
    if align_corners is None:
        warnings.warn(f"Default {op} behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired.",
                      UserWarning, stacklevel=3)
        return False
    return bool(align_corners)


def _base(n, align_corners, dtype):
    """Normalized coordinates of n pixel centres (or edges with align_corners), computed as
    PyTorch does, linspace(-1, 1, n) * (n - 1) / n, to the last bit: an identity theta (the
    spatial transformer's start) then samples exactly at pixel centres, where grid_sample's
    gradient depends on which side floor() falls."""
    if n == 1:
        return arange(1, dtype=dtype) * 0.0
    steps = linspace(-1.0, 1.0, n, dtype=dtype)
    return steps if align_corners else steps * (n - 1) / n


def affine_grid(theta, size, align_corners=None):
    align = _align(align_corners, "affine_grid")
    size = tuple(size)
    if len(size) != 4 or theta.ndim != 3 or tuple(theta.shape[1:]) != (2, 3) \
            or theta.shape[0] != size[0]:
        raise op_error(ShapeError(f"affine_grid expects theta of shape (N, 2, 3) and a 4-D size "
                                  f"(N, C, H, W) with the same N, got theta {fmt(theta.shape)} "
                                  f"and size {list(size)}"), "affine_grid")
    n, _, h, w = size
    xs = _base(w, align, theta.dtype).reshape(1, 1, w)
    ys = _base(h, align, theta.dtype).reshape(1, h, 1)
    # x * t0 + y * t1 + t2 in that order, as PyTorch's batched matmul of the (x, y, 1) grid
    # sums it: the same bits, so the same pixels where a coordinate lands on a whole number.
    coords = [xs * theta[:, k, 0].reshape(n, 1, 1) + ys * theta[:, k, 1].reshape(n, 1, 1)
              + theta[:, k, 2].reshape(n, 1, 1) for k in (0, 1)]
    return stack(coords, -1)


def _pixel(coord, size, align):
    """Pixel coordinate of a normalized one, PyTorch's formula in its order (the last bit
    decides floor() at pixel centres)."""
    if align:
        return (coord + 1.0) * ((size - 1) / 2.0)
    return ((coord + 1.0) * size - 1.0) / 2.0


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    align = _align(align_corners, "grid_sample")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise op_error(ShapeError(f"grid_sample expects a 4-D input (N, C, H, W) and a grid "
                                  f"(N, H_out, W_out, 2) with the same N, got input "
                                  f"{fmt(input.shape)} and grid {fmt(grid.shape)}"), "grid_sample")
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(f"grid_sample(mode={mode!r}): only 'bilinear' and 'nearest'")
    if padding_mode not in ("zeros", "border"):
        raise NotImplementedError(f"grid_sample(padding_mode={padding_mode!r}): only 'zeros' "
                                  "and 'border'")
    n, c, h, w = input.shape
    ix = _pixel(grid[..., 0], w, align)
    iy = _pixel(grid[..., 1], h, align)
    if padding_mode == "border":
        ix, iy = _clip(ix, w), _clip(iy, h)
    channels_last = input.permute(0, 2, 3, 1)                  # (N, H, W, C)
    batch = arange(n).reshape(n, 1, 1)
    if mode == "nearest":
        return _read(channels_last, batch, apply(P.round, iy), apply(P.round, ix), h, w)
    x0, y0 = apply(P.floor, ix), apply(P.floor, iy)
    wx1, wy1 = ix - x0, iy - y0
    wx0, wy0 = 1.0 - wx1, 1.0 - wy1
    out = None
    for yy, wy in ((y0, wy0), (y0 + 1.0, wy1)):
        for xx, wx in ((x0, wx0), (x0 + 1.0, wx1)):
            term = _read(channels_last, batch, yy, xx, h, w) * (wy * wx).unsqueeze(1)
            out = term if out is None else out + term
    return out


def _clip(coord, size):
    """coord clamped to [0, size - 1], with PyTorch's gradient: 0 on the edges too."""
    inside = (coord > 0).logical_and(coord < size - 1)
    return apply(P.where, inside, coord, coord.detach().clamp(0, size - 1))


def _read(channels_last, batch, y, x, h, w):
    """input[n, :, y, x] for float pixel coordinates (whole numbers), 0 outside: (N, C, Ho, Wo)."""
    inside = (x >= 0).logical_and(x <= w - 1).logical_and(y >= 0).logical_and(y <= h - 1)
    xi = apply(P.cast, x.clamp(0, w - 1), dtype=int64)
    yi = apply(P.cast, y.clamp(0, h - 1), dtype=int64)
    values = apply(P.gather, channels_last, batch, yi, xi, key=("T", "T", "T"))   # (N, Ho, Wo, C)
    values = values * inside.unsqueeze(-1).to(values.dtype)
    return values.permute(0, 3, 1, 2)
