"""Lazy layers: shapes from the first input, parameters materialized in place (the optimizer
built before the first call updates them), PyTorch's initialization, and inside a compiled
step a first call run eagerly."""
import numpy as np
import pytest

import stepjit
from stepjit import nn


def test_lazy_linear_materializes_in_place_with_linears_draws():
    stepjit.manual_seed(3)
    lazy = nn.LazyLinear(5)
    w = lazy.weight
    lazy.weight.data.normal_(0, 0.01)     # d2l writes to the empty data first: a no-op
    assert tuple(w.shape) == (0,)
    opt = stepjit.optim.SGD(lazy.parameters(), lr=0.1)
    x = stepjit.randn(2, 7)
    state = stepjit.get_rng_state()
    y = lazy(x)
    assert type(lazy) is nn.Linear and lazy.in_features == 7
    assert lazy.weight is w and type(w) is nn.Parameter and tuple(w.shape) == (5, 7)
    # the same draws as a Linear(7, 5) made from the same generator state
    stepjit.set_rng_state(state)
    ref = nn.Linear(7, 5)
    np.testing.assert_array_equal(w.detach().numpy(), ref.weight.detach().numpy())
    np.testing.assert_array_equal(lazy.bias.detach().numpy(), ref.bias.detach().numpy())
    y.sum().backward()
    before = w.detach().numpy().copy()
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), before - 0.1 * np.ones((5, 1)) * x.sum(0).numpy(),
                               rtol=1e-6)


def test_lazy_conv_and_batchnorm_take_channels_from_the_input():
    net = nn.Sequential(nn.LazyConv2d(3, kernel_size=3, padding=1), nn.LazyBatchNorm2d(),
                        nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    out = net(stepjit.randn(4, 2, 5, 5))
    assert tuple(out.shape) == (4, 2)
    assert [type(m).__name__ for m in net] == ["Conv2d", "BatchNorm2d", "ReLU", "Flatten", "Linear"]
    assert tuple(net[0].weight.shape) == (3, 2, 3, 3) and net[0].in_channels == 2
    bn = net[1]
    assert bn.num_features == 3 and tuple(bn.running_mean.shape) == (3,)
    np.testing.assert_array_equal(bn.weight.detach().numpy(), np.ones(3))
    assert int(bn.num_batches_tracked) == 1 and float(bn.running_var.sum()) != 3.0   # updated
    assert tuple(net[4].weight.shape) == (2, 75)


def _lazy_training(compiled):
    """d2l's concise models are lazy (`nn.LazyLinear(10)`), the optimizer made before the
    first forward, the training step compiled from its first call."""
    stepjit.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(3))
    opt = stepjit.optim.SGD(net.parameters(), lr=0.1)

    def step(x, y):
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    f = stepjit.compile(step, backend="interpret") if compiled else step
    g = stepjit.Generator().manual_seed(1)
    losses = [f(stepjit.rand(4, 2, 3, generator=g), stepjit.randint(0, 3, (4,), generator=g)).item()
              for _ in range(6)]
    return losses, net, f


def test_lazy_layer_first_called_inside_a_compiled_step_runs_that_call_eagerly():
    eager, net_e, _ = _lazy_training(False)
    compiled, net_c, f = _lazy_training(True)
    assert compiled == eager              # interpret backend: bit for bit
    np.testing.assert_array_equal(net_c[3].weight.detach().numpy(),
                                  net_e[3].weight.detach().numpy())
    st = f.stats()
    assert st["fallbacks"] == 1 and st["traces"] <= 2, st   # the first call only ran eagerly


CASES = [(lambda m: m.LazyLinear(3), (2, 5)), (lambda m: m.LazyConv1d(4, 3), (2, 3, 9)),
         (lambda m: m.LazyConv2d(4, 3, stride=2), (2, 3, 9, 9)),
         (lambda m: m.LazyBatchNorm1d(), (4, 3))]


@pytest.mark.parametrize("make,shape", CASES)
def test_lazy_matches_pytorch_class_names_and_shapes(make, shape):
    torch = pytest.importorskip("torch")
    ours, theirs = make(nn), make(torch.nn)
    x = np.random.RandomState(0).standard_normal(shape).astype(np.float32)
    assert tuple(ours(stepjit.from_numpy(x)).shape) == tuple(theirs(torch.from_numpy(x)).shape)
    assert type(ours).__name__ == type(theirs).__name__
    ours_p = [(n, tuple(p.shape)) for n, p in ours.named_parameters()]
    assert ours_p == [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]


def test_dtype_conversion_before_the_first_call_is_kept():
    lin = nn.LazyLinear(3).double()
    assert lin(stepjit.ones(2, 4, dtype=stepjit.float64)).dtype is stepjit.float64
    assert lin.weight.dtype is stepjit.float64 and type(lin.weight) is nn.Parameter
    bn = nn.LazyBatchNorm1d().double()
    out = bn(stepjit.randn(4, 3, dtype=stepjit.float64))
    assert out.dtype is stepjit.float64 and bn.running_mean.dtype is stepjit.float64
    assert tuple(bn.running_var.shape) == (3,) and int(bn.num_batches_tracked) == 1


def test_checkpoint_loads_into_a_lazy_model_before_its_first_call(tmp_path):
    """Save a trained lazy model's state_dict, build a fresh one and load it before any
    forward (a d2l chapter's file round trip): the checkpoint gives each weight its shape; the
    first call then runs on the loaded weights, not fresh draws."""
    def make():
        return nn.Sequential(nn.LazyConv2d(3, kernel_size=3), nn.LazyBatchNorm2d(), nn.ReLU(),
                             nn.Flatten(), nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2))
    stepjit.manual_seed(0)
    net = make()
    x = stepjit.randn(2, 2, 5, 5)
    net(x)
    stepjit.save(net.state_dict(), tmp_path / "net.params")
    clone = make()
    assert str(clone.load_state_dict(stepjit.load(tmp_path / "net.params"))) == \
        "<All keys matched successfully>"
    assert tuple(clone[4].weight.shape) == (4, 27)
    net.eval()
    clone.eval()
    np.testing.assert_array_equal(clone(x).detach().numpy(), net(x).detach().numpy())
    assert [type(m).__name__ for m in clone] == ["Conv2d", "BatchNorm2d", "ReLU", "Flatten",
                                                 "Linear", "ReLU", "Linear"]
    assert clone[4].in_features == 27 and clone[0].in_channels == 2


def test_partial_checkpoint_leaves_the_rest_lazy_and_reports_it():
    lazy = nn.Sequential(nn.LazyLinear(4))
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "0.bias"'):
        lazy.load_state_dict({"0.weight": stepjit.ones(4, 3)})
    assert tuple(lazy[0].weight.shape) == (4, 3)
    assert type(lazy[0].bias).__name__ == "UninitializedParameter"


def test_state_dict_of_a_lazy_model_that_never_ran_loads_into_another_and_both_stay_lazy():
    """A model with a lazy head that has not run yet (d2l's BERT classifier: `nn.LazyLinear(3)`
    next to pretrained blocks) copied by `clone.load_state_dict(net.state_dict())`: the
    unrun entries are UninitializedParameters, as PyTorch's state_dict holds them, and the
    clone's lazy layers stay lazy, taking their input size from their first call (before, the
    clone's weight became a (0,)-shaped tensor and its first call raised a matmul ShapeError)."""
    stepjit.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 4), nn.LazyLinear(3))
    state = net.state_dict()
    assert [type(v).__name__ for v in state.values()] == \
        ["Tensor", "Tensor", "UninitializedParameter", "UninitializedParameter"]
    assert type(net[1].weight).__name__ == "UninitializedParameter"     # the net's own stay put
    clone = nn.Sequential(nn.Linear(5, 4), nn.LazyLinear(3))
    assert str(clone.load_state_dict(state)) == "<All keys matched successfully>"
    assert type(clone[1].weight).__name__ == "UninitializedParameter"
    out = clone(stepjit.ones(2, 5))
    assert tuple(out.shape) == (2, 3) and tuple(clone[1].weight.shape) == (3, 4)
    np.testing.assert_array_equal(clone[0].weight.detach().numpy(), net[0].weight.detach().numpy())
    with pytest.raises(RuntimeError, match="size mismatch for 1.weight"):
        nn.Sequential(nn.Linear(5, 4), nn.Linear(4, 3)).load_state_dict(state)
