"""The Distribution base: shapes, sample/rsample/log_prob/entropy's contract, and argument
validation (PyTorch's, on by default; eager values only)."""
from __future__ import annotations

import numpy as np

from ..tensor import Size, Tensor
from ..autograd.grad_mode import no_grad


def _is_concrete(t):
    return isinstance(t, Tensor) and isinstance(t._data, np.ndarray)


class Distribution:
    has_rsample = False
    has_enumerate_support = False
    arg_constraints: dict = {}
    support = None
    _validate_default = True

    @staticmethod
    def set_default_validate_args(value):
        if value not in (True, False):
            raise ValueError("set_default_validate_args expects True or False")
        Distribution._validate_default = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        else:
            self._validate_args = Distribution._validate_default
        if self._validate_args:
            self._check_parameters()

    def _check_parameters(self):
        for name, constraint in self.arg_constraints.items():
            if name not in self.__dict__:
                continue   # derived (probs from logits): the given parameter is checked
            value = self.__dict__[name]
            if not _is_concrete(value):
                continue
            if not bool(constraint.check(value.detach()).all()):
                raise ValueError(
                    f"Expected parameter {name} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                    f"{constraint!r}, but found invalid values:\n{value}")

    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event = len(self._event_shape)
        if tuple(value.shape[value.ndim - event:] if event else ()) != tuple(self._event_shape):
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{tuple(value.shape)} vs {tuple(self._event_shape)}.")
        try:
            np.broadcast_shapes(tuple(value.shape), tuple(self.batch_shape + self.event_shape))
        except ValueError:
            raise ValueError(f"Value of shape {tuple(value.shape)} is not broadcastable with "
                             f"batch_shape+event_shape: "
                             f"{tuple(self.batch_shape + self.event_shape)}.") from None
        if self.support is not None and _is_concrete(value):
            if not bool(self.support.check(value.detach()).all()):
                raise ValueError(
                    f"Expected value argument ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) to be within the support ({self.support!r}) of the "
                    f"distribution {self!r}, but found invalid values:\n{value}")

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=Size()):
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def expand(self, batch_shape, _instance=None):
        """The distribution with its batch dims broadcast to `batch_shape` (no data copied).
        Every tensor whose leading dims are the batch dims is expanded, keeping its trailing
        (event) dims, and a distribution it is built on gets the same batch dims before its
        own trailing ones, which is what each of PyTorch's expand methods does."""
        batch_shape = Size(batch_shape)
        old = tuple(self._batch_shape)
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        for name, value in self.__dict__.items():
            if isinstance(value, Tensor) and tuple(value.shape[:len(old)]) == old:
                new.__dict__[name] = value.expand(*batch_shape, *value.shape[len(old):])
            elif isinstance(value, Distribution):
                tail = tuple(value.batch_shape)[len(old):]
                new.__dict__[name] = value.expand(batch_shape + Size(tail))
        new._batch_shape = batch_shape
        return new

    def sample(self, sample_shape=Size()):
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sampler "
                                  "(rsample); use sample()")

    def sample_n(self, n):
        return self.sample(Size((n,)))

    def log_prob(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} has no icdf")

    def perplexity(self):
        return self.entropy().exp()

    @property
    def mean(self):
        raise NotImplementedError

    @property
    def mode(self):
        raise NotImplementedError

    @property
    def variance(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def __repr__(self):
        params = ", ".join(f"{k}: {self._param_repr(k)}" for k in self.arg_constraints
                           if k in self.__dict__)
        return f"{type(self).__name__}({params})"

    def _param_repr(self, name):
        v = self.__dict__[name]
        return v if v.numel() == 1 else f"stepjit.Size({list(v.shape)})"
