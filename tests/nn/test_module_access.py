"""nn.Module's dotted access (get_parameter, get_buffer, set_submodule), Module.compile in
place, to_empty, and half()/bfloat16() refusing as Tensor.to does; the same script run on
PyTorch where it is installed gives the same answers and messages."""
import numpy as np
import pytest

import stepjit


def _model(T):
    T.manual_seed(0)
    m = T.nn.Sequential(T.nn.Linear(3, 4), T.nn.ReLU(), T.nn.Sequential(T.nn.Linear(4, 2)))
    m[2].register_buffer("scale", T.ones(2))
    return m


def _answers(T):
    m = _model(T)
    out = [tuple(m.get_parameter("2.0.weight").shape), m.get_buffer("2.scale").tolist()]
    for bad in ("0.weight2", "2.scale", "5.weight"):
        try:
            m.get_parameter(bad)
        except AttributeError as e:
            out.append(str(e))
    try:
        m.get_buffer("0.weight")
    except AttributeError as e:
        out.append(str(e))
    m.set_submodule("1", T.nn.Tanh())
    m.set_submodule("2.0", T.nn.Linear(4, 3))
    out.append(type(m[1]).__name__)
    out.append(tuple(m[2][0].weight.shape))
    try:
        m.set_submodule("2.9", T.nn.Tanh(), strict=True)
    except AttributeError as e:
        out.append(str(e))
    out.append(list(m.state_dict().keys()))
    return out


def test_dotted_access_and_set_submodule():
    got = _answers(stepjit)
    assert got[:2] == [(2, 4), [1.0, 1.0]]
    assert got[2:6] == ["Linear has no attribute `weight2`", "`scale` is not an nn.Parameter",
                        "Sequential has no attribute `5`", "`weight` is not a buffer"]
    assert got[6:8] == ["Tanh", (3, 4)]


def test_same_answers_as_pytorch():
    torch = pytest.importorskip("torch")
    assert _answers(stepjit) == _answers(torch)


def test_module_compile_in_place_matches_eager():
    x = stepjit.tensor(np.random.default_rng(1).standard_normal((5, 3)), dtype=stepjit.float32)
    eager, compiled = _model(stepjit), _model(stepjit)
    calls = []
    compiled.register_forward_hook(lambda mod, args, out: calls.append(1))
    compiled.compile()
    for _ in range(3):
        for m in (eager, compiled):
            m.zero_grad()
            loss = (m(x) ** 2).mean()
            loss.backward()
            with stepjit.no_grad():
                for p in m.parameters():
                    p -= 0.1 * p.grad
    for (k, a), (_, b) in zip(eager.state_dict().items(), compiled.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7, err_msg=k)
    assert len(calls) == 3 and compiled.forward.stats()["calls"] == 3
    assert list(compiled.state_dict()) == list(eager.state_dict())


def test_half_refused_and_to_empty():
    m = _model(stepjit)
    with pytest.raises(TypeError, match="does not compute in float16"):
        m.half()
    w = m[0].weight
    assert m.bfloat16() is m and w.dtype is stepjit.bfloat16   # (storage: tests/ops/test_bfloat16)
    m.float()
    m.to_empty(device="cpu")
    assert m[0].weight is w and tuple(w.shape) == (4, 3) and m[2].scale.shape == (2,)
