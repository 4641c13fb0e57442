"""PyTorch drawing its random numbers from stepjit's generator, for recording reference losses.

stepjit's generator is counter-based (docs/random.md), PyTorch's is a Mersenne twister: for
the same seed they draw different numbers, so a program's initial weights, synthetic data,
shuffles and dropout masks would differ and no loss could be compared. While recording, every
random draw PyTorch makes on the program's behalf (torch.rand/randn/randint/randperm/normal/
bernoulli/multinomial and their *_like forms, Tensor.uniform_/normal_/random_/bernoulli_/
exponential_ (and so nn.init and every layer's reset_parameters), F.dropout and its 1d/2d/3d
forms, the attention dropout of F.scaled_dot_product_attention, torch.Generator)
is made by the stepjit function of the same name on a stepjit tensor of the same shape and
dtype, and the values are copied into PyTorch's tensor. The arithmetic of the program is
PyTorch's own; only where its random numbers come from changes. What stepjit lacks is left as
PyTorch's (such a program cannot match until stepjit has it; its test says so).

Used only by tests/fixtures/record_real.py, where PyTorch is installed.
"""
from __future__ import annotations

import contextlib

import numpy as np

import stepjit

FUNCTIONS = ("rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
             "normal", "bernoulli", "multinomial")
METHODS = ("uniform_", "normal_", "random_", "bernoulli_", "exponential_", "multinomial")
IGNORED = ("device", "layout", "pin_memory", "memory_format")


class Generator:
    """torch.Generator's API over a stepjit generator."""

    def __init__(self, device="cpu"):
        self.device = device
        self._sj = stepjit.random.Generator()

    def manual_seed(self, seed):
        self._sj.manual_seed(seed)
        return self

    def seed(self):
        return self._sj.seed()

    def initial_seed(self):
        return self._sj.initial_seed()

    def get_state(self):
        return self._sj.get_state()

    def set_state(self, state):
        self._sj.set_state(state)
        return self


def to_stepjit(value, torch):
    if isinstance(value, torch.Tensor):
        return stepjit.from_numpy(value.detach().cpu().numpy().copy())
    if isinstance(value, torch.dtype):
        return getattr(stepjit, str(value).split(".")[-1])
    if isinstance(value, Generator):
        return value._sj
    if isinstance(value, (list, tuple)):
        return type(value)(to_stepjit(v, torch) for v in value) if type(value) in (list, tuple) \
            else tuple(value)
    if isinstance(value, dict):
        return {k: to_stepjit(v, torch) for k, v in value.items()}
    return value


def to_torch(value, torch):
    if isinstance(value, stepjit.Tensor):
        return torch.from_numpy(np.array(value.detach().numpy()))
    return value


def _function(name, torch):
    sj_fn = getattr(stepjit, name)

    def drawn_by_stepjit(*args, **kwargs):
        requires_grad = kwargs.pop("requires_grad", False)
        target = kwargs.pop("out", None)
        for key in IGNORED:
            kwargs.pop(key, None)
        if name == "randint" and not args and "low" not in kwargs:
            kwargs["low"] = 0         # randint(high=n, size=...), as RandomSampler calls it
        if target is not None and kwargs.get("dtype") is None:
            kwargs["dtype"] = target.dtype      # PyTorch draws in out's dtype
        out = to_torch(sj_fn(*to_stepjit(args, torch), **to_stepjit(kwargs, torch)), torch)
        if target is not None:
            with torch.no_grad():
                target.resize_(out.shape).copy_(out)
            return target
        return out.requires_grad_() if requires_grad else out

    return drawn_by_stepjit


def _method(name, torch):
    def drawn_by_stepjit(self, *args, **kwargs):
        sj = to_stepjit(self, torch)
        out = getattr(sj, name)(*to_stepjit(args, torch), **to_stepjit(kwargs, torch))
        if name.endswith("_"):
            with torch.no_grad():
                self.copy_(to_torch(sj, torch))
            return self
        return to_torch(out, torch)

    return drawn_by_stepjit


def _dropout(torch, name):
    """F.dropout / dropout1d / dropout2d / dropout3d: stepjit's mask (stepjit's F.<name> of
    ones shaped like the input: the same elements or channels zeroed), PyTorch's multiply."""
    def dropout(input, p=0.5, training=True, inplace=False):
        if not training or p == 0.0:
            return input
        ones = stepjit.ones(tuple(input.shape), dtype=to_stepjit(input.dtype, torch))
        mask = to_torch(getattr(stepjit.nn.functional, name)(ones, p, True), torch)
        return input.mul_(mask) if inplace else input * mask

    return dropout


def _attention(torch, original):
    """F.scaled_dot_product_attention with dropout (MultiheadAttention's and the Transformer
    layers' attention, which PyTorch drops out inside its C++ kernel): the same formula in
    PyTorch's ops, the weights dropped out by the patched F.dropout (stepjit's mask). Without
    dropout, PyTorch's own."""
    def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                     is_causal=False, scale=None, **kwargs):
        if dropout_p == 0.0 or kwargs:
            return original(query, key, value, attn_mask, dropout_p, is_causal, scale=scale,
                            **kwargs)
        scale = 1.0 / query.shape[-1] ** 0.5 if scale is None else scale
        scores = query @ key.transpose(-2, -1) * scale
        l, s = query.shape[-2], key.shape[-2]
        if is_causal:
            attn_mask = torch.ones(l, s, dtype=torch.bool, device=query.device).tril()
        if attn_mask is not None and attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        elif attn_mask is not None:
            scores = scores + attn_mask
        weights = torch.nn.functional.dropout(scores.softmax(-1), dropout_p, True)
        return weights @ value

    return scaled_dot_product_attention


def _manual_seed(original):
    def manual_seed(seed):
        stepjit.manual_seed(seed)
        return original(seed)

    return manual_seed


@contextlib.contextmanager
def stepjit_streams(torch):
    """Within the block, PyTorch's random draws come from stepjit's generators."""
    saved = []

    def patch(owner, name, value):
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    patch(torch, "manual_seed", _manual_seed(torch.manual_seed))
    patch(torch, "Generator", Generator)
    for name in FUNCTIONS:
        if hasattr(stepjit, name):
            patch(torch, name, _function(name, torch))
    for name in METHODS:
        if hasattr(stepjit.Tensor, name):
            patch(torch.Tensor, name, _method(name, torch))
    for name in ("dropout", "dropout1d", "dropout2d", "dropout3d"):
        if hasattr(stepjit.nn.functional, name):
            patch(torch.nn.functional, name, _dropout(torch, name))
    patch(torch.nn.functional, "scaled_dot_product_attention",
          _attention(torch, torch.nn.functional.scaled_dot_product_attention))
    try:
        yield
    finally:
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)
