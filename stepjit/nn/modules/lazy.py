"""Lazy layers (LazyLinear, LazyConv1d/2d/3d, LazyConvTranspose1d/2d/3d, LazyBatchNorm1d/2d/3d,
LazyInstanceNorm1d/2d/3d): the input size comes from the first input, as d2l's models are
written (`nn.LazyLinear(10)`).

PyTorch's design, kept: the weights start as `UninitializedParameter`s (no data: shape (0,)),
so an optimizer can be built over `model.parameters()` before the first forward. The first
call materializes each one *in place* (same object, now a plain Parameter of the right shape,
so the optimizer and any tied reference see it), initializes it with the layer's own
`reset_parameters` (the same draws as PyTorch's), and turns the module into the layer it
stands for (`type(m)` becomes Linear). Until then `m.weight.data` is an empty tensor: what
d2l's `net.weight.data.normal_(0, 0.01)` writes to before the first forward, as in PyTorch.

Inside a compiled step the first call runs eagerly (errors.EagerFirst: the trace stops,
changing nothing, and the compiled function runs the call as written), and the next call is
traced with the weights in place, as TorchDynamo initializes a lazy module eagerly.
"""
from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import no_grad
from ...ir.types import as_dtype, default_float, int64
from ...ops.creation import empty, tensor
from ...tensor import Tensor
from ..parameter import (  # noqa: F401  (PyTorch's nn.modules.lazy names them too)
    UninitializedBuffer, UninitializedParameter, UninitializedTensorMixin,
    uninitialized_buffer as _uninitialized_buffer)
from .conv import (
    Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .linear import Linear
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d


def is_lazy(t) -> bool:
    return isinstance(t, UninitializedTensorMixin)


class LazyModuleMixin:
    """First call: `initialize_parameters(*input)`, then become `cls_to_become` and run it."""
    cls_to_become = None

    def has_uninitialized_params(self) -> bool:
        tensors = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_lazy(t) for t in tensors)

    def __call__(self, *args, **kwargs):
        if self.cls_to_become is not None:
            # (also after load_state_dict gave the weights their shapes: the input still tells
            # the layer its input size, as PyTorch's first forward does)
            with no_grad():
                self.initialize_parameters(*args, **kwargs)
        if not self.has_uninitialized_params() and self.cls_to_become is not None:
            self.__class__ = self.cls_to_become
        return Module.__call__(self, *args, **kwargs)   # (super() no longer applies: the class changed)

    def _load_tree(self, state_dict, prefix, assign, missing, unexpected, errors):
        """A checkpoint gives each uninitialized weight it holds its shape (PyTorch's lazy load
        hook): `clone = MLP(); clone.load_state_dict(torch.load(f))` before any forward."""
        for name, t in list(self._parameters.items()) + list(self._buffers.items()):
            value = state_dict.get(prefix + name) if is_lazy(t) else None
            if isinstance(value, Tensor) and not is_lazy(value):
                t.materialize(tuple(value.shape))
        Module._load_tree(self, state_dict, prefix, assign, missing, unexpected, errors)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self._in_size() != 0:
            super().reset_parameters()


class LazyLinear(LazyModuleMixin, Linear):
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False, device=device, dtype=dtype)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def _in_size(self):
        return self.in_features

    def initialize_parameters(self, input, *args, **kwargs):
        self.in_features = input.shape[-1]
        if not self.has_uninitialized_params():
            return
        self.weight.materialize((self.out_features, self.in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device=device, dtype=dtype)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def _in_size(self):
        return self.in_channels

    def initialize_parameters(self, input, *args, **kwargs):
        unbatched = input.dim() == self._n + 1
        self.in_channels = input.shape[0 if unbatched else 1]
        if self.in_channels % self.groups:
            raise ValueError("in_channels must be divisible by groups")
        if not self.has_uninitialized_params():
            return
        self.weight.materialize(self._weight_shape())
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()

    def _weight_shape(self):
        return (self.out_channels, self.in_channels // self.groups) + self.kernel_size


class LazyConv1d(_LazyConvMixin, Conv1d):
    cls_to_become = Conv1d


class LazyConv2d(_LazyConvMixin, Conv2d):
    cls_to_become = Conv2d


class LazyConv3d(_LazyConvMixin, Conv3d):
    cls_to_become = Conv3d


class _LazyConvTransposeMixin(_LazyConvMixin):
    """A transposed convolution's weight is (in_channels, out_channels / groups, *kernel)."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        # (past _LazyConvMixin's __init__, to the transposed convolution's own)
        super(_LazyConvMixin, self).__init__(0, 0, kernel_size, stride, padding, output_padding,
                                             groups, False, dilation, padding_mode,
                                             device=device, dtype=dtype)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def _weight_shape(self):
        return (self.in_channels, self.out_channels // self.groups) + self.kernel_size


class LazyConvTranspose1d(_LazyConvTransposeMixin, ConvTranspose1d):
    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeMixin, ConvTranspose2d):
    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeMixin, ConvTranspose3d):
    cls_to_become = ConvTranspose3d


class _LazyNormMixin(LazyModuleMixin):
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__(0, eps, momentum, False, False, device=device, dtype=dtype)
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = as_dtype(dtype) if dtype is not None else default_float()
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.running_mean = _uninitialized_buffer(dtype)
            self.running_var = _uninitialized_buffer(dtype)
            self.num_batches_tracked = tensor(0, dtype=int64)

    def _in_size(self):
        return self.num_features

    def initialize_parameters(self, input, *args, **kwargs):
        self.num_features = input.shape[1]
        if not self.has_uninitialized_params():
            return
        for t in (self.weight, self.bias):
            if t is not None and is_lazy(t):
                t.materialize((self.num_features,))
        for name in ("running_mean", "running_var"):
            t = getattr(self, name)
            if t is not None and t.numel() == 0:    # (module.to() may have replaced it: by size)
                setattr(self, name, empty(self.num_features, dtype=t.dtype))
        self.reset_parameters()


class LazyBatchNorm1d(_LazyNormMixin, BatchNorm1d):
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormMixin, BatchNorm2d):
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormMixin, BatchNorm3d):
    cls_to_become = BatchNorm3d


# (PyTorch's lazy instance norms default to affine=True, track_running_stats=True, unlike
# InstanceNorm*d: the shared lazy-norm defaults, as here)
class LazyInstanceNorm1d(_LazyNormMixin, InstanceNorm1d):
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormMixin, InstanceNorm2d):
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNormMixin, InstanceNorm3d):
    cls_to_become = InstanceNorm3d
