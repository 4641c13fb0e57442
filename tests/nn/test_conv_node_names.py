"""Transposed and 1-D convolutions carry PyTorch's ConvolutionBackward0 node, as conv2d does:
d2l's transposed-conv chapter prints `tconv(X)` (`grad_fn=<ConvolutionBackward0>`), which
printed SliceBackward0 (the padding crop), AddBackward0 (the bias) or SqueezeBackward1 (the
2-D detour of the 1-D forms). Unbatched inputs end in SqueezeBackward1 in PyTorch too. Names
as PyTorch 2.13 gives them on CPU."""
import pytest

import stepjit
from stepjit import nn
from stepjit.nn import functional as F

stepjit.manual_seed(0)
X = stepjit.randn(1, 2, 4, 4, requires_grad=True)
X1 = stepjit.randn(1, 2, 5, requires_grad=True)
W = stepjit.randn(2, 3, 2, 2, requires_grad=True)
W1 = stepjit.randn(2, 3, 2, requires_grad=True)
WC1 = stepjit.randn(3, 2, 2, requires_grad=True)
B = stepjit.randn(3, requires_grad=True)

CASES = [
    ("conv_transpose2d", lambda: F.conv_transpose2d(X, W), "ConvolutionBackward0"),
    ("conv_transpose2d bias stride pad",
     lambda: F.conv_transpose2d(X, W, B, stride=2, padding=1), "ConvolutionBackward0"),
    ("ConvTranspose2d", lambda: nn.ConvTranspose2d(2, 3, 2)(X), "ConvolutionBackward0"),
    ("conv_transpose1d", lambda: F.conv_transpose1d(X1, W1, B), "ConvolutionBackward0"),
    ("ConvTranspose1d", lambda: nn.ConvTranspose1d(2, 3, 2)(X1), "ConvolutionBackward0"),
    ("conv1d", lambda: F.conv1d(X1, WC1), "ConvolutionBackward0"),
    ("Conv1d", lambda: nn.Conv1d(2, 3, 2)(X1), "ConvolutionBackward0"),
    ("conv_transpose2d unbatched", lambda: F.conv_transpose2d(X[0], W, B), "SqueezeBackward1"),
    ("conv1d unbatched", lambda: F.conv1d(X1[0], WC1), "SqueezeBackward1"),
]


@pytest.mark.parametrize("make,name", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_node_name(make, name):
    X.grad = X1.grad = None
    y = make()
    assert y.grad_fn.name() == name
    assert f"grad_fn=<{name}>" in repr(y)
    y.sum().backward()          # the same graph underneath
    assert (X.grad is not None) or (X1.grad is not None)
