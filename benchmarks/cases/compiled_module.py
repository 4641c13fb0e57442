"""A compiled model with backward and the optimizer outside (PyTorch 2's `torch.compile(model)`).

An MLP (N=64, 100 -> 100 -> ReLU -> 100 -> ReLU -> 10, float32) trained with MSE and SGD
(lr 0.01). Each step: `opt.zero_grad()`, `loss = mse(model(x), y)`, `loss.backward()`,
`opt.step()`, where `model` is the module itself (eager), `stepjit.compile(module)` (compiled
forward and backward behind one CompiledFunctionBackward node; loss, backward entry and
optimizer eager), or the same in PyTorch. Every variant starts from the same weights.
The "stepjit whole step" variant compiles the entire step (forward, loss, backward, update)
into one program, for comparison.
"""
import numpy as np

from ..harness import Case, Variant
from ._examples import torch_missing

N, D_IN, H, D_OUT = 64, 100, 100, 10
LR = 0.01


def initial_values(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(H, D_IN), (H,), (H, H), (H,), (D_OUT, H), (D_OUT,)]
    weights = [(rng.standard_normal(s) * 0.1).astype(np.float32) for s in shapes]
    x = rng.standard_normal((N, D_IN), dtype=np.float32)
    y = rng.standard_normal((N, D_OUT), dtype=np.float32)
    return weights, x, y


def _model(fw):
    nn = fw.nn
    m = nn.Sequential(nn.Linear(D_IN, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU(),
                      nn.Linear(H, D_OUT))
    weights, x, y = initial_values()
    with fw.no_grad():
        for p, w in zip(m.parameters(), weights):
            p.copy_(fw.from_numpy(w))
    return m, fw.from_numpy(x), fw.from_numpy(y)


def _setup(framework, compiled):
    def setup():
        if framework == "torch":
            import torch as fw
        else:
            import stepjit as fw
        m, x, y = _model(fw)
        forward = fw.compile(m, **compiled) if compiled is not None else m
        opt = fw.optim.SGD(m.parameters(), lr=LR)
        mse = fw.nn.functional.mse_loss

        def step():
            opt.zero_grad()
            loss = mse(forward(x), y)
            loss.backward()
            opt.step()
            return loss
        return step
    return setup


def _whole_step_setup():
    import stepjit as fw
    m, x, y = _model(fw)
    opt = fw.optim.SGD(m.parameters(), lr=LR)
    mse = fw.nn.functional.mse_loss

    @fw.compile
    def step(x, y):
        opt.zero_grad()
        loss = mse(m(x), y)
        loss.backward()
        opt.step()
        return loss
    return lambda: step(x, y)


def torch_compile_missing():
    reason = torch_missing()
    if reason:
        return reason
    try:
        _setup("torch", {})()()
    except Exception as e:  # noqa: BLE001 - any failure means: not available here
        msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
        return f"torch.compile unavailable: {type(e).__name__}: {msg[:200]}"
    return None


CASE = Case(
    name="compiled_module",
    description=f"MLP {D_IN}-{H}-{H}-{D_OUT}, N={N} float32: compiled model, loss + backward + "
                "SGD outside; baseline: the same step eager in stepjit",
    baseline="stepjit eager",
    variants=[
        Variant("stepjit eager", _setup("stepjit", None)),
        Variant("stepjit compiled model", _setup("stepjit", {})),
        Variant("stepjit whole step", _whole_step_setup),
        Variant("torch eager", _setup("torch", None), unavailable=torch_missing),
        Variant("torch.compile model", _setup("torch", {}), unavailable=torch_compile_missing),
    ],
)
