"""torch.nn.grad: the gradients of a convolution with respect to its input and its weight,
given the output's gradient (what custom autograd Functions around a convolution call).
Each is the autograd of the convolution itself, so it is exactly the gradient training
computes: conv{1,2,3}d_input is a transposed convolution, conv{1,2,3}d_weight a correlation
of the input with the output gradient. Taken with create_graph, so (as PyTorch's) they are
differentiable in the weight, the input and the output gradient."""
from __future__ import annotations

from ..autograd import grad as _grad
from ..autograd.grad_mode import enable_grad
from ..ops.creation import zeros
from . import functional as F

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _input_grad(n, input_size, weight, grad_output, stride, padding, dilation, groups):
    shape = tuple(input_size)
    x = zeros(shape, dtype=grad_output.dtype, device=grad_output.device).requires_grad_(True)
    with enable_grad():
        out = _CONV[n](x, weight, None, stride, padding, dilation, groups)
        return _grad(out, x, grad_output, create_graph=True)[0]


def _weight_grad(n, input, weight_size, grad_output, stride, padding, dilation, groups):
    w = zeros(tuple(weight_size), dtype=grad_output.dtype,
              device=grad_output.device).requires_grad_(True)
    with enable_grad():
        out = _CONV[n](input, w, None, stride, padding, dilation, groups)
        return _grad(out, w, grad_output, create_graph=True)[0]


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _input_grad(1, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _input_grad(2, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _input_grad(3, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _weight_grad(1, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _weight_grad(2, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    return _weight_grad(3, input, weight_size, grad_output, stride, padding, dilation, groups)
