"""Activation functions as composites: GELU (exact and tanh), SiLU, Mish, ELU family,
Softplus, leaky/parametric ReLU, the hard* family, GLU and friends.

Where PyTorch's backward differs from the composite's at a kink, the composite is
arranged to give PyTorch's gradient (noted per function)."""
from __future__ import annotations

import math

from ...dispatch import apply
from ...ir import primitives as P
from ...ops.elementwise import where
from ...ops.reduce import _rename
from ..functional import softmax


def gelu(input, approximate="none"):
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2.0 / math.pi)
        return _rename(input * 0.5 * (inner.tanh() + 1.0), "GeluBackward0", input)
    if approximate != "none":
        raise ValueError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return _rename(input * 0.5 * ((input * (1.0 / math.sqrt(2.0))).erf() + 1.0), "GeluBackward0",
                   input)


def silu(input, inplace=False):
    out = input * input.sigmoid()
    return input.copy_(out) if inplace else _rename(out, "SiluBackward0", input)


def mish(input, inplace=False):
    out = input * softplus(input).tanh()
    return input.copy_(out) if inplace else out


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold. exp never sees more than
    the threshold, so the branch not taken has a finite gradient (0 * inf would be NaN)."""
    scaled = input * beta
    soft = apply(P.log1p, apply(P.exp, scaled.clamp(max=threshold))) / beta
    return _rename(where(scaled > threshold, input, soft), "SoftplusBackward0", input)


def logsigmoid(input):
    """min(x, 0) - log1p(exp(-|x|)), which never overflows."""
    return input.clamp(max=0.0) - apply(P.log1p, apply(P.exp, -input.abs()))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    out = where(input > 0, input, input * negative_slope)
    return input.copy_(out) if inplace else _rename(out, "LeakyReluBackward0", input)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: in training each negative element gets its own slope drawn from
    U(lower, upper) (stepjit's generator); in evaluation the mean slope (lower + upper) / 2."""
    if training:
        slope = input.new_empty(tuple(input.shape)).uniform_(lower, upper)
        out = where(input >= 0, input, input * slope)
    else:
        out = where(input >= 0, input, input * ((lower + upper) / 2))
    return input.copy_(out) if inplace else _rename(out, "RreluWithNoiseBackward0")


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) with g Gumbel(0, 1) noise (-log of an exponential draw, as
    PyTorch draws it); hard=True returns the one-hot of its argmax with the soft sample's
    gradient (straight-through)."""
    gumbels = -logits.new_empty(tuple(logits.shape)).exponential_().log()
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = soft.argmax(dim, keepdim=True)
    one_hot = logits.new_zeros(tuple(logits.shape)).scatter_(dim, index, 1.0)
    return one_hot - soft.detach() + soft


def _source(input, inplace):
    """What an in-place activation computes from: a copy of input's value and history where
    its backward reads input (a clamp) and the store would change it under that backward."""
    return input._snapshot() if inplace and input.requires_grad else input


def elu(input, alpha=1.0, inplace=False):
    x = _source(input, inplace)
    out = where(x > 0, x, apply(P.expm1, x.clamp(max=0.0)) * alpha)
    return input.copy_(out) if inplace else _rename(out, "EluBackward0")


def celu(input, alpha=1.0, inplace=False):
    x = _source(input, inplace)
    out = where(x > 0, x, apply(P.expm1, (x / alpha).clamp(max=0.0)) * alpha)
    return input.copy_(out) if inplace else out


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    out = elu(_source(input, inplace), _SELU_ALPHA) * _SELU_SCALE
    return input.copy_(out) if inplace else out


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp, with PyTorch's gradient: zero at the bounds themselves, not only outside."""
    inside = (input > min_val).logical_and(input < max_val)
    out = where(inside, input, input.detach().clamp(min_val, max_val))
    return input.copy_(out) if inplace else _rename(out, "HardtanhBackward0")


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    out = hardtanh(input + 3.0, 0.0, 6.0) / 6.0
    return input.copy_(out) if inplace else out


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6; PyTorch's gradient is x / 3 + 0.5 on (-3, 3), 0 below, 1 above."""
    inside = (input > -3.0).logical_and(input < 3.0)
    out = where(inside, input * (input + 3.0) / 6.0, where(input >= 3.0, input, input * 0.0))
    return input.copy_(out) if inplace else out


def softsign(input):
    return input / (input.abs() + 1.0)


def tanhshrink(input):
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, input * 0.0))


def hardshrink(input, lambd=0.5):
    return where(input.abs() > lambd, input, input * 0.0)


def threshold(input, threshold, value, inplace=False):
    out = where(input > threshold, input, value)
    return input.copy_(out) if inplace else out


def prelu(input, weight):
    w = weight
    if weight.numel() > 1 and input.ndim >= 2:
        w = weight.reshape((1, -1) + (1,) * (input.ndim - 2))
    return where(input > 0, input, input * w)


def glu(input, dim=-1):
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return softmax(-input, dim, dtype=dtype)
