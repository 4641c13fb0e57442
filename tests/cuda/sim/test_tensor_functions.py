"""The tensor functions' compiled cases (tests/ops/cases.py) on CUDA tensors, eagerly and with
backend="cuda", against CPU eager: new primitives (scans, sorts, erf, ...) on the device."""
import numpy as np
import pytest

import stepjit
from tests.fixtures import oracle
from tests.ops.cases import CASES

COMPILED = [c for c in CASES if c.compiled]


def _step(case):
    def step(*ts):
        outs = oracle.outputs(case.fn(stepjit, *ts))
        loss = None
        for i, o in enumerate(outs):
            if o.requires_grad:
                cot = stepjit.from_numpy(oracle.cotangent(case.name, i, tuple(o.shape)))
                term = (o * cot.to(o.device)).sum()
                loss = term if loss is None else loss + term
        loss.backward()
        return tuple(o.detach() for o in outs)
    return step


def _inputs(case, device):
    out = []
    for i, a in enumerate(case.inputs):
        t = stepjit.from_numpy(a.copy()).to(device)
        out.append(t.requires_grad_(True) if i in case.grad else t)
    return out


@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize("case", COMPILED, ids=[c.name for c in COMPILED])
def test_on_cuda_matches_cpu_eager(case, mode):
    cpu = _inputs(case, "cpu")
    want = _step(case)(*cpu)
    dev = _inputs(case, "cuda")
    step = _step(case) if mode == "eager" else stepjit.compile(_step(case), backend="cuda")
    got = step(*dev)
    for a, b in zip(want, got):
        assert b.device.type == "cuda"
        np.testing.assert_allclose(b.cpu().numpy(), a.numpy(), rtol=1e-10, atol=1e-12)
    for i in case.grad:
        np.testing.assert_allclose(dev[i].grad.cpu().numpy(), cpu[i].grad.numpy(),
                                   rtol=1e-10, atol=1e-12)
