"""A learning rate lifted as a per-call graph input (tracer/hyper.py) stands for a Python
number: it must promote as one, so 0-dim float32 parameters stay float32 and the compiled step
equals eager bit for bit (two 0-dim tensors, f32 and f64, would give float64)."""
import numpy as np
import pytest

import stepjit


def _model():
    stepjit.manual_seed(3)
    a = stepjit.randn((), requires_grad=True)
    b = stepjit.randn((), requires_grad=True)
    w = stepjit.randn(4, requires_grad=True)
    return [a, b, w]


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_zero_dim_float32_parameters_match_eager_bitwise(opt_name):
    x = stepjit.linspace(-1, 1, 16)
    y = x ** 3

    def make():
        params = _model()
        kw = {"lr": 1e-2, "momentum": 0.9} if opt_name == "SGD" else {"lr": 1e-2}
        return params, getattr(stepjit.optim, opt_name)(params, **kw)

    def step(params, opt):
        a, b, w = params
        loss = ((a + b * x + w.sum() * x ** 2 - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    pe, oe = make()
    pc, oc = make()
    fn = stepjit.compile(step, backend="interpret")
    for k in range(6):
        if k == 3:
            for o in (oe, oc):   # a schedule: the lifted lr is read again, no retrace
                o.param_groups[0]["lr"] = 3e-3
        le, lc = step(pe, oe), fn(pc, oc)
        assert lc.item() == le.item()
        for e, c in zip(pe, pc):
            assert c.dtype is stepjit.float32
            np.testing.assert_array_equal(c.detach().numpy(), e.detach().numpy())
    assert fn.stats()["fallbacks"] == 0
    if opt_name == "SGD":   # (Adam's bias correction is a float64 tensor, eagerly too)
        for label, v in fn.traces[-1].graph.writes:
            assert v.dtype is stepjit.float32, (label, v.dtype)
