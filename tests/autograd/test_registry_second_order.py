"""Every differentiable primitive's VJP rule is itself differentiable: for each registry
sample (tests/ir/test_registry.py, float64), the gradient of <first VJP, w> taken through a
create_graph backward against central differences of the first VJP. A rule whose ops lost
their history (or a wrong second derivative) fails here, naming the primitive."""
import numpy as np
import pytest

import stepjit
from stepjit import autograd
from stepjit.dispatch import apply
from stepjit.ir.primitives import PRIMITIVES
from stepjit.ir.types import as_dtype
from tests.ir.test_registry import GRAD_CASES, SAMPLES, _case_id, numeric_vjp

RNG = np.random.default_rng(11)


def _float64(sample):
    return all(a.dtype == np.float64 for a in sample.args
               if isinstance(a, np.ndarray) and a.dtype.kind == "f")


# (Samples at a tie of max/min sit where the function has no derivative: the first
# derivative jumps there, so a central difference of it measures the jump.)
CASES = [c for c in GRAD_CASES if _float64(SAMPLES[c[0]][c[1]]) and "tie" not in _case_id(c)]


def _tensors(arrays, requires):
    ts = []
    for j, a in enumerate(arrays):
        if isinstance(a, np.ndarray):
            t = stepjit.tensor(a, dtype=as_dtype(a.dtype))
            if j in requires:
                t.requires_grad_()
            ts.append(t)
        else:
            ts.append(a)
    return ts


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_second_derivative_matches_finite_differences(case):
    name, i = case
    sample = SAMPLES[name][i]
    prim = PRIMITIVES[name]
    idx = tuple(sample.grad)
    out_shape = tuple(apply(prim, *_tensors(sample.args, ()), **sample.attrs).shape)
    cot = RNG.standard_normal(out_shape)
    ws = {j: RNG.standard_normal(sample.args[j].shape) for j in idx}

    def first_vjp_dot_w(arrays, create_graph):
        ts = _tensors(arrays, idx)
        out = apply(prim, *ts, **sample.attrs)
        gs = autograd.grad(out, [ts[j] for j in idx], stepjit.tensor(cot, dtype=out.dtype),
                           create_graph=create_graph, allow_unused=True)
        total = None
        for j, g in zip(idx, gs):
            if g is not None:
                term = (g * stepjit.tensor(ws[j], dtype=g.dtype)).sum()
                total = term if total is None else total + term
        return total, ts

    total, ts = first_vjp_dot_w(sample.args, True)
    if total is None or not total.requires_grad:   # a rule constant in its inputs
        seconds = [None] * len(idx)
    else:
        seconds = autograd.grad(total, [ts[j] for j in idx], allow_unused=True)

    def value(arrays):
        t, _ = first_vjp_dot_w(arrays, False)
        return np.asarray(0.0 if t is None else t.item())

    for j, s in zip(idx, seconds):
        numeric = numeric_vjp(value, list(sample.args), j, np.asarray(1.0), 1e-6)
        got = np.zeros(sample.args[j].shape) if s is None else s.numpy()
        np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-5,
                                   err_msg=f"{name}: second derivative, input {j}")
