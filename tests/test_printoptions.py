"""set_printoptions: the strings PyTorch 2.13 prints for the same options (recorded below,
and compared with a live PyTorch where installed)."""
import pytest

import stepjit

CASES = [   # (options, tensor values, PyTorch's repr)
    (dict(precision=2), [1.23456, 40000.5, 0.001], "tensor([1.23e+00, 4.00e+04, 1.00e-03])"),
    (dict(precision=2, sci_mode=False), [1.23456, 40000.5, 0.001],
     "tensor([    1.23, 40000.50,     0.00])"),
    (dict(threshold=5, edgeitems=2), [float(i) for i in range(10)],
     "tensor([0., 1.,  ..., 8., 9.])"),
    (dict(sci_mode=True), [1.5, 2.0], "tensor([1.5000e+00, 2.0000e+00])"),
    (dict(profile="short"), [1.23456, 2.0], "tensor([1.23, 2.00])"),
]


@pytest.fixture(autouse=True)
def default_options():
    yield
    stepjit.set_printoptions(profile="default")


@pytest.mark.parametrize("options,values,want", CASES)
def test_repr_follows_the_options_as_pytorch(options, values, want):
    stepjit.set_printoptions(**options)
    assert repr(stepjit.tensor(values)) == want


@pytest.mark.parametrize("options,values,want", CASES)
def test_live_pytorch_prints_the_same(options, values, want):
    torch = pytest.importorskip("torch")
    torch.set_printoptions(**options)
    try:
        assert repr(torch.tensor(values)) == want
    finally:
        torch.set_printoptions(profile="default")


def test_default_profile_restores_the_defaults():
    stepjit.set_printoptions(precision=1, sci_mode=True, linewidth=20)
    stepjit.set_printoptions(profile="default")
    assert repr(stepjit.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="profile"):
        stepjit.set_printoptions(profile="long")
