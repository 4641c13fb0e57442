"""B2 (issue 5): logistic regression on 4x2 data, where per-call overhead is everything.

One step: p = sigmoid(X @ w + b), BCE loss (mean, log clamped at -100 as PyTorch
does), backward, SGD update under no_grad with `-=` and `.grad.zero_()`; w: [2,1],
b: [1], float32, lr 0.1. The same source runs with stepjit (eager and compiled)
and PyTorch. The baseline is one hand-written Numba function doing the whole
step (forward, gradient, in-place update) and returning the loss. jax.jit runs
the same step written in JAX and waits for its loss each call.

The work is a few dozen flops; what is timed is each framework's per-call cost,
so the case wants many calls per timed repetition (`inner`).
"""
import numpy as np

from ..harness import Variant
from ._targets import TargetCase, jax_missing
from ._examples import torch_missing

LR = 0.1


def initial_values():
    X = np.array([[0.5, 1.0], [-1.5, 0.3], [2.0, -0.7], [-0.2, -1.1]], np.float32)
    y = np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)
    w = np.array([[0.1], [-0.2]], np.float32)
    b = np.array([0.05], np.float32)
    return X, y, w, b


def make_step(torch):
    """The step as a PyTorch user writes it, for `torch` = stepjit or PyTorch."""
    F = torch.nn.functional

    def step(X, y, w, b, lr):
        p = torch.sigmoid(X @ w + b)
        loss = F.binary_cross_entropy(p, y)
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
        return loss
    return step


def _framework_setup(name, compiled=False):
    def setup():
        if name == "torch":
            import torch as fw
        else:
            import stepjit as fw
        step = make_step(fw)
        if compiled:
            step = fw.compile(step, backend="cpu")
        X, y, w, b = (fw.from_numpy(a) for a in initial_values())
        w.requires_grad_()
        b.requires_grad_()
        return lambda: step(X, y, w, b, LR)
    return setup


_numba_step = None


def _make_numba_step():
    global _numba_step
    if _numba_step is None:
        import math

        import numba

        @numba.njit(cache=False, error_model="numpy")
        def numba_step(X, y, w, b, lr):
            n, d = X.shape
            one = np.float32(1.0)
            inv_n = np.float32(1.0 / n)
            loss = np.float32(0.0)
            gw = np.zeros(d, np.float32)
            gb = np.float32(0.0)
            for i in range(n):
                z = b[0]
                for j in range(d):
                    z += X[i, j] * w[j, 0]
                p = one / (one + math.exp(-z))
                t = y[i, 0]
                loss -= t * max(math.log(p), -100.0) + (one - t) * max(math.log(one - p), -100.0)
                g = (p - t) * inv_n           # d mean-BCE / dz for sample i
                for j in range(d):
                    gw[j] += g * X[i, j]
                gb += g
            for j in range(d):
                w[j, 0] -= lr * gw[j]
            b[0] -= lr * gb
            return loss * inv_n
        _numba_step = numba_step
    return _numba_step


class _Loss:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def item(self):
        return self.value


def numba_setup():
    step = _make_numba_step()
    X, y, w, b = initial_values()
    lr = np.float32(LR)
    step(X.copy(), y, w.copy(), b.copy(), lr)  # compile outside the timed loop
    return lambda: _Loss(step(X, y, w, b, lr))


def jax_setup():
    import jax
    import jax.numpy as jnp

    def loss_fn(w, b, X, y):
        p = jax.nn.sigmoid(X @ w + b)
        return -jnp.mean(y * jnp.maximum(jnp.log(p), -100.0)
                         + (1 - y) * jnp.maximum(jnp.log(1 - p), -100.0))

    def step(w, b, X, y):
        loss, (gw, gb) = jax.value_and_grad(loss_fn, argnums=(0, 1))(w, b, X, y)
        return loss, w - LR * gw, b - LR * gb

    jstep = jax.jit(step, donate_argnums=(0, 1))
    X, y, w, b = (jnp.asarray(a) for a in initial_values())
    state = [w, b]

    def call():
        loss, state[0], state[1] = jstep(state[0], state[1], X, y)
        return loss.block_until_ready()
    return call


CASE = TargetCase(
    name="logistic_4x2",
    description="logistic regression step on 4x2 data (sigmoid, BCE, backward, SGD update), "
                "float32; baseline: one hand-written whole-step Numba function",
    baseline="numba whole-step",
    variants=[
        Variant("numba whole-step", numba_setup),
        Variant("stepjit compile", _framework_setup("stepjit", compiled=True)),
        Variant("stepjit eager", _framework_setup("stepjit")),
        Variant("torch eager", _framework_setup("torch"), unavailable=torch_missing),
        Variant("jax.jit", jax_setup, unavailable=jax_missing),
    ],
    targets={"stepjit compile": 3.0},
    relative=[("stepjit compile", "jax.jit", 5.0)],
    # warmup past the 64th reuse, where the runtime makes the hot step one native function
    reps=100, inner=100, warmup=100,
)
