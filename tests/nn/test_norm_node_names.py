"""The backward node a normalization layer's output carries has PyTorch's name whether or
not the layer has its affine weight and bias: d2l's transformer chapter prints `ln(X)` and
`bn(X)` (`grad_fn=<NativeLayerNormBackward0>`), which printed `AddBackward0` (the bias add)
for the layers with parameters. Names as PyTorch 2.13 gives them on CPU."""
import pytest

import stepjit
from stepjit import nn
from stepjit.nn import functional as F

CASES = [
    ("LayerNorm", lambda x: nn.LayerNorm(2)(x), "NativeLayerNormBackward0"),
    ("layer_norm", lambda x: F.layer_norm(x, (2,)), "NativeLayerNormBackward0"),
    ("BatchNorm1d train", lambda x: nn.BatchNorm1d(3)(x), "NativeBatchNormBackward0"),
    ("BatchNorm1d eval", lambda x: nn.BatchNorm1d(3).eval()(x), "NativeBatchNormBackward0"),
    ("batch_norm no stats", lambda x: F.batch_norm(x, None, None, training=True),
     "NativeBatchNormBackward0"),
    ("GroupNorm", lambda x: nn.GroupNorm(1, 3)(x), "NativeGroupNormBackward0"),
    ("group_norm", lambda x: F.group_norm(x, 1), "NativeGroupNormBackward0"),
]


@pytest.mark.parametrize("make,name", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_node_name(make, name):
    x = stepjit.randn(4, 3, 2, requires_grad=True)
    y = make(x)
    assert y.grad_fn.name() == name
    assert f"grad_fn=<{name}>" in repr(y)
    y.sum().backward()          # still the same graph underneath
    assert tuple(x.grad.shape) == (4, 3, 2)
