"""torch.distributed.rpc's names, without an RPC framework: training helpers written for
PyTorch's pipeline examples (rasbt's helper_train) test `isinstance(logits,
torch.distributed.rpc.api.RRef)` on every step, which raised AttributeError."""
import numpy as np
import pytest

import stepjit as torch
from stepjit.distributed import rpc


def test_no_value_is_an_rref_and_the_framework_is_absent():
    assert rpc.is_available() is False
    assert torch.distributed.rpc.RRef is torch.distributed.rpc.api.RRef
    assert not isinstance(torch.ones(1), torch.distributed.rpc.api.RRef)
    for make in (lambda: rpc.RRef(1), lambda: rpc.init_rpc("worker0", rank=0, world_size=1),
                 lambda: rpc.rpc_sync("worker1", max, args=(1, 2))):
        with pytest.raises(RuntimeError, match="no RPC framework"):
            make()


def test_a_traced_step_that_asks_stays_traced():
    # the interpreter backend: what is checked is the trace (the attribute chain it guards on),
    # not kernels, so no Numba compile is paid
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(4, 3), torch.tensor([0, 1, 1, 0])

    def step(x, y):
        logits = model(x)
        if isinstance(logits, torch.distributed.rpc.api.RRef):
            logits = logits.local_value()
        loss = torch.nn.functional.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    eager = [float(step(x, y)) for _ in range(2)]
    torch.manual_seed(0)
    model.reset_parameters()
    compiled = torch.compile(step, backend="interpret")
    got = [float(compiled(x, y)) for _ in range(2)]
    torch.manual_seed(0)
    model.reset_parameters()
    again = [float(step(x, y)) for _ in range(2)]
    np.testing.assert_allclose(got, again, rtol=1e-6)
    stats = compiled.stats()
    assert stats["fallbacks"] == 0 and stats["eager_calls"] == 0 and eager == again
