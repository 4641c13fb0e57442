"""The tutorial two-layer network: one full training step (forward, backward, SGD).

N=64, D_in=1000, H=100, D_out=10, float32, custom ReLU, lr=1e-6. Every variant
starts from the same NumPy-generated values. The stepjit and torch variants run
examples/two_layer_net.py's `step`, the same source; numpy is written by hand.
"""
import numpy as np

from ..harness import Case, Variant
from ._examples import load_example, torch_missing

N, D_IN, H, D_OUT = 64, 1000, 100, 10
LR = 1e-6


def initial_values(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape, dtype=np.float32)
            for shape in ((N, D_IN), (N, D_OUT), (D_IN, H), (H, D_OUT))]


def numpy_step(x, y, w1, w2, lr):
    """The same step written by hand: forward, backward, in-place SGD update."""
    h = x @ w1
    h_relu = np.maximum(h, 0)
    y_pred = h_relu @ w2
    diff = y_pred - y
    loss = np.square(diff).sum()
    grad_y_pred = 2.0 * diff
    grad_w2 = h_relu.T @ grad_y_pred
    grad_h = grad_y_pred @ w2.T
    grad_h[h < 0] = 0
    grad_w1 = x.T @ grad_h
    w1 -= lr * grad_w1
    w2 -= lr * grad_w2
    return loss


def numpy_step_fn():
    x, y, w1, w2 = initial_values()
    return lambda: numpy_step(x, y, w1, w2, LR)


def _example_step_fn(framework):
    def setup():
        ex = load_example("two_layer_net", framework)
        fw = ex.torch
        x, y, w1, w2 = (fw.from_numpy(a) for a in initial_values())
        w1.requires_grad_()
        w2.requires_grad_()
        return lambda: ex.step(x, y, w1, w2, LR)
    return setup


CASE = Case(
    name="two_layer",
    description=f"tutorial two-layer net step, N={N} D_in={D_IN} H={H} D_out={D_OUT} float32 "
                "(forward + backward + SGD update)",
    baseline="numpy",
    variants=[
        Variant("numpy", numpy_step_fn),
        Variant("stepjit eager", _example_step_fn("stepjit")),
        Variant("torch eager", _example_step_fn("torch"), unavailable=torch_missing),
    ],
    targets={"stepjit eager": 1.5},
)
