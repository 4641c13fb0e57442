"""nn.DataParallel on a machine without CUDA, as PyTorch's: it keeps the module (`.module`,
state_dict keys prefixed `module.`, `device_ids == []`) and calls it, eagerly and in a compiled
step; nn.parallel's pieces raise PyTorch's errors there; the names resolve where PyTorch puts
them."""
import numpy as np
import pytest

import stepjit
import stepjit.nn as nn


@pytest.fixture(autouse=True)
def no_cuda(monkeypatch):
    monkeypatch.setattr(stepjit.cuda, "is_available", lambda: False)


def net():
    stepjit.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def test_names_resolve_where_pytorch_puts_them():
    assert nn.DataParallel is nn.parallel.DataParallel
    assert nn.parallel.DistributedDataParallel is nn.parallel.distributed.DistributedDataParallel
    assert callable(nn.parallel.data_parallel) and not isinstance(nn.parallel.data_parallel, type)
    for name in ("scatter", "gather", "replicate", "parallel_apply"):
        assert callable(getattr(nn.parallel, name))


def test_wraps_and_calls_the_module_like_pytorch_without_cuda():
    inner = net()
    dp = nn.DataParallel(inner, device_ids=[stepjit.device("cpu")]).to(stepjit.device("cpu"))
    assert dp.module is inner and dp.device_ids == []
    assert list(dp.state_dict()) == ["module." + k for k in inner.state_dict()]
    assert repr(dp).startswith("DataParallel(\n  (module): Sequential(")
    x = stepjit.randn(5, 3)
    twin = net()
    out, want = dp(x), twin(x)
    np.testing.assert_array_equal(out.detach().numpy(), want.detach().numpy())
    out.sum().backward()
    want.sum().backward()
    for p, q in zip(dp.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    # the usual save/load round trip: strip the prefix to load into a bare model
    bare = net()
    with stepjit.no_grad():
        for p in dp.parameters():
            p.add_(1.0)
    bare.load_state_dict({k[len("module."):]: v for k, v in dp.state_dict().items()})
    np.testing.assert_array_equal(bare[0].weight.detach().numpy(),
                                  inner[0].weight.detach().numpy())


def test_compiled_training_step_matches_eager():
    def make():
        stepjit.manual_seed(0)
        dp = nn.DataParallel(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)),
                             device_ids=None)
        return dp, stepjit.optim.SGD(dp.parameters(), lr=0.1)

    def step(dp, opt, x, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(dp(x), y)
        loss.backward()
        opt.step()
        return loss.detach()

    (a, oa), (b, ob) = make(), make()
    run = stepjit.compile(step)
    stepjit.manual_seed(1)
    for _ in range(3):
        x, y = stepjit.randn(6, 3), stepjit.randint(0, 2, (6,))
        np.testing.assert_allclose(run(b, ob, x, y).numpy(), step(a, oa, x, y).numpy(),
                                   rtol=1e-6)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert run.stats()["fallbacks"] == 0


@pytest.mark.parametrize("call,error,words", [
    (lambda m, x: nn.parallel.data_parallel(m, x), RuntimeError,
     "device type could not be determined"),
    (lambda m, x: nn.parallel.scatter(x, [stepjit.device("cpu")]), ValueError,
     "Expected a non cpu device, but got: cpu"),
    (lambda m, x: nn.parallel.gather([x, x], "cpu"), AssertionError,
     "Gather function not implemented for CPU tensors"),
    (lambda m, x: nn.parallel.replicate(m, [0]), AssertionError,
     "Broadcast function not implemented for CPU tensors"),
    (lambda m, x: nn.parallel.parallel_apply([m], [x]), RuntimeError,
     "Cannot access accelerator device"),
], ids=["data_parallel", "scatter", "gather", "replicate", "parallel_apply"])
def test_the_pieces_raise_pytorchs_errors_without_cuda(call, error, words):
    with pytest.raises(error, match=words):
        call(net(), stepjit.randn(2, 3))
