"""Generators behind manual_seed, rand, randn, randint, randperm, bernoulli and dropout.

A Generator's whole state is one int64[2] tensor `(seed, offset)`. A draw of n
values is a random primitive applied to that tensor (a pure function of it; see
stepjit/ir/primitives/random.py) followed by `rng_advance`, whose result is
stored back into the state tensor, moving the offset by n. Both go through the
one dispatch point, so:

- eagerly, `manual_seed(s)` then the same draws give the same values every run;
- inside a compiled step the state tensor is outside state like a weight: the
  tracer lifts it as an input and writes the advanced state back after each
  call, so the trace stays reusable and every call draws fresh numbers, the
  same numbers the eager run draws for the same seed.

The state tensor is never replaced (manual_seed writes into it), because the
runtime finds lifted tensors by identity. See docs/random.md.
"""
from __future__ import annotations

import contextlib
import operator

import numpy as np

from .ir.primitives.random import MASK64
from .tensor import Tensor, device as _device
from . import dispatch
from .autograd.grad_mode import no_grad
from .ir import primitives as P

_SIGN = 1 << 63


def _as_int64(x: int) -> int:
    """A Python int taken mod 2**64, as the int64 with the same bits."""
    return ((int(x) & MASK64) ^ _SIGN) - _SIGN


def _fresh_seed() -> int:
    return int(np.random.SeedSequence().entropy) % (2 ** 63)


class Generator:
    """A counter-based generator: `torch.Generator`'s seeding API over a (seed, offset) state."""

    def __init__(self, device="cpu"):
        self.device = _device(device) if not isinstance(device, _device) else device
        self._seed = 67280421310721  # PyTorch's default seed
        self._state = None

    @property
    def state(self):
        """The int64[2] state tensor (created on first use, then always the same object)."""
        if self._state is None:
            self._state = Tensor._make(np.array([_as_int64(self._seed), 0], dtype=np.int64))
        return self._state

    def _set(self, seed, offset):
        from .ops.creation import tensor
        value = tensor([_as_int64(seed), _as_int64(offset)], dtype="int64")
        dispatch.store(self.state, value)

    def manual_seed(self, seed):
        try:
            seed = operator.index(seed)    # ints, NumPy ints, integer tensors; not floats
        except TypeError:
            raise TypeError(f"manual_seed expected a long, but got {type(seed).__name__}") from None
        if not -(1 << 63) <= seed < (1 << 64):
            raise ValueError("Overflow when unpacking long long")
        self._seed = seed & MASK64
        self._set(self._seed, 0)
        return self

    def seed(self):
        s = _fresh_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """A copy of the state: int64 tensor [seed, offset]."""
        return self.state.clone()

    def set_state(self, new_state):
        if not (isinstance(new_state, Tensor) and tuple(new_state.shape) == (2,)
                and new_state.dtype.name == "int64"):
            raise TypeError("RNG state must be an int64 tensor [seed, offset], as get_state() "
                            "returns")
        seed, offset = (int(v) for v in new_state.tolist())
        self._seed = seed & MASK64
        self._set(seed, offset)
        return self

    def draw(self, prim, count, *inputs, **attrs):
        """Apply random primitive `prim` to the state (and `inputs`), then advance the state by
        `count`."""
        with no_grad():
            out = dispatch.apply(prim, self.state, *inputs, **attrs)
            dispatch.store(self.state, dispatch.apply(P.rng_advance, self.state, count=count))
        return out

    def __repr__(self):
        return f"<stepjit.Generator seed={self._seed}>"


default_generator = Generator()
default_generator._seed = _fresh_seed()  # the state tensor is made on first use


def manual_seed(seed):
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """torch.random.fork_rng: random draws inside the block leave the generator's state as it
    was before it. Every device draws from the one default generator here, so `devices` and
    `device_type` change nothing."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
