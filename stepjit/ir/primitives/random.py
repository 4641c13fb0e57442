"""Random primitives: counter-based, so a draw is a pure function of the generator state.

The generator state is an int64[2] tensor `(seed, offset)` passed as an ordinary
input. Element i (row-major) of a draw of n elements taken at state (seed, offset)
is computed from one 64-bit word

    bits(seed, offset + i) = mix64(mix64(seed) + (offset + i + 1) * GAMMA)    (mod 2**64)

which is SplitMix64 (Steele, Lea, Flood 2014) evaluated at counter offset + i
of the stream keyed by mix64(seed). Nothing is sequential: any element can be
computed on its own, so eager NumPy, the interpreter, a Numba loop and a CUDA
thread all produce the same numbers. `rng_advance` returns the state with the
offset moved past a draw; the front end (stepjit/random.py) stores it back.

Because a draw depends only on its inputs, these nodes are as pure as any other:
two draws from the same state Value give the same numbers (that is the point),
and an unused draw can be dropped without changing later ones (the advance
feeds the state, not the draw).

The scalar reference functions (`mix64`, `bits_scalar`, `uniform_scalar`,
`normal_scalar`, `randint_scalar`) are the per-element definitions codegen must
reproduce; `tests/regression/test_random.py` checks the vectorized impls
against them. In Numba/CUDA with uint64 variables the `& MASK64` masks are
implicit (unsigned arithmetic wraps). See docs/random.md.
"""
from __future__ import annotations

import math

import numpy as np

from ...errors import DTypeError, ShapeError
from ..registry import Primitive, register
from ..types import FLOAT, INT, AVal, float64, int64
from . import shapes as S

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15   # odd: counter -> state is a bijection mod 2**64
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
TWO_PI = 6.283185307179586


# -- the per-element definition (what codegen reproduces) -------------------------------
def mix64(z: int) -> int:
    """SplitMix64's finalizer on a 64-bit unsigned integer."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


def bits_scalar(seed: int, counter: int) -> int:
    """The 64 random bits of counter `counter` in the stream of `seed` (both taken mod 2**64)."""
    return mix64(mix64(seed) + ((counter + 1) & MASK64) * GAMMA)


def uniform_scalar(seed, counter, dtype) -> float:
    """[0, 1): the top 24 (float32) or 53 (float64) bits, scaled exactly."""
    b = bits_scalar(seed, counter)
    if dtype.np == np.float32:
        return np.float32((b >> 40) * 2.0 ** -24)
    return (b >> 11) * 2.0 ** -53


def normal_scalar(seed, counter, dtype):
    """Box-Muller in float64 on the two 32-bit halves, then rounded to dtype. The angle is
    taken in [-pi, pi) (cheaper range reduction than [0, 2 pi); same distribution)."""
    b = bits_scalar(seed, counter)
    u1 = ((b >> 32) + 1) * 2.0 ** -32          # (0, 1]: log is finite
    u2 = (b & 0xFFFFFFFF) * 2.0 ** -32 - 0.5   # [-0.5, 0.5), exact
    return dtype.np.type(math.sqrt(-2.0 * math.log(u1)) * math.cos(TWO_PI * u2))


def randint_scalar(seed, counter, low, high):
    """low + bits mod (high - low); the bias is below (high - low) / 2**64."""
    return low + bits_scalar(seed, counter) % (high - low)


# -- vectorized NumPy (the impls) ---------------------------------------------------------
def _mix64_(z):
    """mix64 in place on a uint64 array (NumPy's unsigned arithmetic wraps, as in C)."""
    z ^= z >> np.uint64(30)
    z *= np.uint64(MIX1)
    z ^= z >> np.uint64(27)
    z *= np.uint64(MIX2)
    z ^= z >> np.uint64(31)
    return z


def bits(state, n: int):
    """uint64[n]: bits_scalar(seed, offset + i) for i < n, for state = (seed, offset)."""
    seed, offset = int(state[0]) & MASK64, int(state[1]) & MASK64
    base = (mix64(seed) + (offset + 1) * GAMMA) & MASK64
    z = np.arange(n, dtype=np.uint64)
    z *= np.uint64(GAMMA)
    z += np.uint64(base)
    return _mix64_(z)


def _numel(shape):
    return math.prod(shape)


def _uniform_impl(state, shape, dtype):
    z = bits(state, _numel(shape))
    if dtype.np == np.float32:
        out = (z >> np.uint64(40)).astype(np.float32)
        out *= np.float32(2.0 ** -24)
    else:
        out = (z >> np.uint64(11)).astype(np.float64)
        out *= 2.0 ** -53
    return out.reshape(shape)


def _normal_impl(state, shape, dtype):
    z = bits(state, _numel(shape))
    u1 = (z >> np.uint64(32)).astype(np.float64)
    u1 += 1.0
    u1 *= 2.0 ** -32
    u2 = (z & np.uint64(0xFFFFFFFF)).astype(np.float64)
    u2 *= 2.0 ** -32
    u2 -= 0.5
    r = np.sqrt(-2.0 * np.log(u1))
    out = r * np.cos(TWO_PI * u2)
    return out.astype(dtype.np, copy=False).reshape(shape)


def _randint_impl(state, shape, low, high, dtype):
    z = bits(state, _numel(shape))
    z %= np.uint64(high - low)
    out = z.astype(np.int64)
    out += low
    return out.astype(dtype.np, copy=False).reshape(shape)


def _randperm_impl(state, n, dtype):
    return np.argsort(bits(state, n), kind="stable").astype(dtype.np)


def _multinomial_impl(state, probs, num_samples, replacement):
    """Category indices drawn from each row of `probs` (weights, not necessarily summing to 1).
    With replacement: sample j of row b is where uniform u[b, j] * total falls in the row's
    cumulative weights. Without: the num_samples smallest of -log(1 - u[b, k]) / p[b, k] (an
    exponential race, which draws a weighted sample without replacement in order)."""
    rows = np.asarray(probs, dtype=np.float64).reshape(-1, probs.shape[-1])
    n_rows, k = rows.shape
    if replacement:
        u = _uniform_impl(state, (n_rows, num_samples), float64)
        cdf = np.cumsum(rows, axis=1)
        out = np.stack([np.searchsorted(c, x * c[-1], side="right") for c, x in zip(cdf, u)])
        np.minimum(out, k - 1, out=out)   # rounding at the top of the cumulative sum
    else:
        u = _uniform_impl(state, (n_rows, k), float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            keys = -np.log1p(-u) / rows       # zero weight: inf (or nan), sorted last
        out = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    return out.astype(np.int64).reshape(probs.shape[:-1] + (num_samples,))


def _advance_impl(state, count):
    out = np.array(state, dtype=np.int64)
    out[1] = np.int64(((int(out[1]) + count + (1 << 63)) & MASK64) - (1 << 63))
    return out


# -- shape rules --------------------------------------------------------------------------
def _check_state(state):
    if state.shape != (2,) or state.dtype is not int64:
        raise ShapeError(f"a generator state is i64[2] (seed, offset), got "
                         f"{state.dtype.short}{S.fmt(state.shape)}")


def _check_shape(shape):
    if any(d < 0 for d in shape):
        raise ShapeError(f"negative dimension in shape {S.fmt(shape)}")


def _float_draw_rule(what):
    def rule(state, shape, dtype):
        _check_state(state)
        _check_shape(shape)
        if dtype.category != FLOAT:
            raise DTypeError(f"{what} draws floating-point values, not {dtype.name}")
        return AVal(tuple(shape), dtype)
    return rule


def _randint_rule(state, shape, low, high, dtype):
    _check_state(state)
    _check_shape(shape)
    if not high > low:
        raise ShapeError(f"randint needs low < high, got low={low}, high={high}")
    if dtype.category not in (INT, FLOAT):
        raise DTypeError(f"randint cannot draw {dtype.name} values")
    return AVal(tuple(shape), dtype)


def _randperm_rule(state, n, dtype):
    _check_state(state)
    if n < 0:
        raise ShapeError(f"randperm needs n >= 0, got {n}")
    return AVal((n,), dtype)


def _multinomial_rule(state, probs, num_samples, replacement):
    _check_state(state)
    if probs.ndim not in (1, 2):
        raise ShapeError(f"multinomial draws from 1-D or 2-D weights, got {S.fmt(probs.shape)}")
    if probs.dtype.category != FLOAT:
        raise DTypeError(f"multinomial needs floating-point weights, got {probs.dtype.name}")
    if num_samples <= 0 or (not replacement and num_samples > probs.shape[-1]):
        raise ShapeError(f"multinomial cannot draw {num_samples} samples from "
                         f"{probs.shape[-1]} categories (replacement={replacement})")
    return AVal(tuple(probs.shape[:-1]) + (num_samples,), int64)


def multinomial_count(shape, num_samples, replacement):
    """How many counters a multinomial draw uses: one per sample, or one per category."""
    return math.prod(shape[:-1]) * (num_samples if replacement else shape[-1])


def _advance_rule(state, count):
    _check_state(state)
    if count < 0:
        raise ShapeError(f"a generator cannot move back (count={count})")
    return AVal((2,), int64)


uniform = register(Primitive(
    "uniform", "random", _uniform_impl, _float_draw_rule("uniform"),
    inputs=("state",), attrs=("shape", "dtype")))

normal = register(Primitive(
    "normal", "random", _normal_impl, _float_draw_rule("normal"),
    inputs=("state",), attrs=("shape", "dtype")))

randint = register(Primitive(
    "randint", "random", _randint_impl, _randint_rule,
    inputs=("state",), attrs=("shape", "low", "high", "dtype")))

randperm = register(Primitive(
    "randperm", "random", _randperm_impl, _randperm_rule,
    inputs=("state",), attrs=("n", "dtype")))

multinomial = register(Primitive(
    "multinomial", "random", _multinomial_impl, _multinomial_rule,
    inputs=("state", "probs"), attrs=("num_samples", "replacement")))

rng_advance = register(Primitive(
    "rng_advance", "random", _advance_impl, _advance_rule,
    inputs=("state",), attrs=("count",)))
