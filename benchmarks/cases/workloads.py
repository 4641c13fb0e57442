"""Real training steps W2, W3 and W6 (W1, W4 and W5 are the cases two_layer_compiled,
logistic_4x2 and adam_10m), each run as stepjit compiled and eager, PyTorch eager and
torch.compile, jax.jit, and hand-written NumPy, from the same initial values.

W2  makemore MLP (karpathy/makemore, part 2): embedding C[X] of 3 characters into 10 dims,
    tanh layer of 200, logits over 27, cross_entropy, `p.grad = None`, backward,
    `p.data += -0.1 * p.grad`; batch 32 (one fixed batch, so every variant sees the same).
W3  MNIST-shaped MLP 784-256-128-10 (nn.Sequential of Linear/ReLU), batch 128,
    nn.CrossEntropyLoss, optim.Adam(lr=1e-3): zero_grad, forward, backward, step.
W6  tanh RNN cell unrolled 16 steps, input 32, hidden 64, batch 16, a linear readout of the
    last state, cross_entropy, backward, SGD with `-=` and `.grad = None`.

The PyTorch-style source is written once per workload (`make_*(torch)`) and run by stepjit
and by PyTorch; JAX and NumPy have their own. The harness checks the first losses agree.
"""
from __future__ import annotations

import numpy as np

from ..harness import Variant
from ._examples import torch_missing
from ._targets import TargetCase, jax_missing, numba_threads

# -- initial values, shared by every variant ------------------------------------------------


def _rng():
    return np.random.default_rng(1234)


def w2_values():
    r = _rng()
    C = r.standard_normal((27, 10)).astype(np.float32)
    W1 = (r.standard_normal((30, 200)) * (5 / 3) / 30 ** 0.5).astype(np.float32)
    b1 = (r.standard_normal(200) * 0.01).astype(np.float32)
    W2 = (r.standard_normal((200, 27)) * 0.01).astype(np.float32)
    b2 = np.zeros(27, np.float32)
    X = r.integers(0, 27, (32, 3)).astype(np.int64)
    Y = r.integers(0, 27, 32).astype(np.int64)
    return [C, W1, b1, W2, b2], X, Y


def w3_values():
    r = _rng()
    params = []
    for fan_in, fan_out in ((784, 256), (256, 128), (128, 10)):
        bound = 1 / fan_in ** 0.5
        params.append(r.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(r.uniform(-bound, bound, fan_out).astype(np.float32))
    x = r.standard_normal((128, 784)).astype(np.float32)
    y = r.integers(0, 10, 128).astype(np.int64)
    return params, x, y


W6_T, W6_B, W6_I, W6_H, W6_O = 16, 16, 32, 64, 10


def w6_values():
    r = _rng()
    Wxh = (r.standard_normal((W6_I, W6_H)) / W6_I ** 0.5).astype(np.float32)
    Whh = (r.standard_normal((W6_H, W6_H)) / W6_H ** 0.5).astype(np.float32)
    bh = np.zeros(W6_H, np.float32)
    Why = (r.standard_normal((W6_H, W6_O)) / W6_H ** 0.5).astype(np.float32)
    by = np.zeros(W6_O, np.float32)
    xs = r.standard_normal((W6_T, W6_B, W6_I)).astype(np.float32)
    y = r.integers(0, W6_O, W6_B).astype(np.int64)
    return [Wxh, Whh, bh, Why, by], xs, y


# -- PyTorch-style steps (stepjit and PyTorch) --------------------------------------------


def make_w2(torch):
    F = torch.nn.functional

    def step(params, X, Y):
        C, W1, b1, W2, b2 = params
        emb = C[X]
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Y)
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data += -0.1 * p.grad
        return loss
    return step


def make_w3(torch, values):
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    with torch.no_grad():
        for p, v in zip(model.parameters(), values):
            p.copy_(torch.from_numpy(v.copy()))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def make_w6(torch):
    F = torch.nn.functional

    def step(params, xs, y):
        Wxh, Whh, bh, Why, by = params
        h = torch.zeros(xs.shape[1], Whh.shape[0])
        for t in range(xs.shape[0]):
            h = torch.tanh(xs[t] @ Wxh + h @ Whh + bh)
        loss = F.cross_entropy(h @ Why + by, y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None
        return loss
    return step


def _fw(name):
    if name == "torch":
        import torch
        torch.set_num_threads(1)
        return torch
    import stepjit
    return stepjit


def _tensor_args(fw, params, *data):
    ps = [fw.from_numpy(p.copy()).requires_grad_() for p in params]
    return ps, [fw.from_numpy(d.copy()) for d in data]


def _setup(workload, fw_name, mode):
    """mode: "eager", "compile" (stepjit.compile) or "torch.compile"."""
    def setup():
        fw = _fw(fw_name)
        if fw_name == "stepjit":
            numba_threads()
        if workload == "w3":
            params, x, y = w3_values()
            step = make_w3(fw, params)
            args = [fw.from_numpy(x), fw.from_numpy(y)]
        else:
            make, values = {"w2": (make_w2, w2_values), "w6": (make_w6, w6_values)}[workload]
            params, *data = values()
            step = make(fw)
            ps, data = _tensor_args(fw, params, *data)
            args = [ps, *data]
        if mode in ("compile", "kernels"):
            step = fw.compile(step)
        elif mode == "torch.compile":
            step = fw.compile(step)
        if mode == "kernels":
            return _kernels_only(step, args)
        return lambda: step(*args)
    return setup


def _kernels_only(step, args):
    """The compiled step kept as kernels called from generated Python, never one native
    program: the same compiler before a program holding these ops could go native, measured in
    the same run. Until its trace's programs exist (they are built at its second call), each
    call runs with STEPJIT_NATIVE=0 and a program cache of its own: sharing the other compiled
    variant's programs by structural hash would run the very native program it is compared
    with."""
    import os

    from stepjit.runtime import tree
    own = {}
    building = [True]

    def call():
        if not building[0]:
            return step(*args)
        shared = dict(tree._PROGRAMS)
        saved = os.environ.get("STEPJIT_NATIVE")
        tree._PROGRAMS.clear()
        tree._PROGRAMS.update(own)
        os.environ["STEPJIT_NATIVE"] = "0"
        try:
            out = step(*args)
            programs = [p for _, p in step.programs.values()]
            building[0] = not programs
            if any(getattr(p, "native", None) is not None for p in programs):
                raise AssertionError("the kernels variant got a native program")
        finally:
            own.update(tree._PROGRAMS)
            tree._PROGRAMS.clear()
            tree._PROGRAMS.update(shared)
            if saved is None:
                os.environ.pop("STEPJIT_NATIVE")
            else:
                os.environ["STEPJIT_NATIVE"] = saved
        return out
    return call


# -- JAX ------------------------------------------------------------------------------------


def _jax_setup(workload):
    def setup():
        import jax
        import jax.numpy as jnp

        def xent(logits, y):
            return jnp.mean(jax.nn.logsumexp(logits, axis=1)
                            - jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0])

        if workload == "w2":
            params, X, Y = w2_values()

            def loss_fn(ps, X, Y):
                C, W1, b1, W2, b2 = ps
                h = jnp.tanh(C[X].reshape(-1, 30) @ W1 + b1)
                return xent(h @ W2 + b2, Y)

            def update(ps, gs, state):
                return [p - 0.1 * g for p, g in zip(ps, gs)], state
            data = (X, Y)
        elif workload == "w6":
            params, xs, y = w6_values()

            def loss_fn(ps, xs, y):
                Wxh, Whh, bh, Why, by = ps
                h = jnp.zeros((xs.shape[1], Whh.shape[0]), jnp.float32)
                for t in range(xs.shape[0]):
                    h = jnp.tanh(xs[t] @ Wxh + h @ Whh + bh)
                return xent(h @ Why + by, y)

            def update(ps, gs, state):
                return [p - 0.01 * g for p, g in zip(ps, gs)], state
            data = (xs, y)
        else:
            params, x, y = w3_values()

            def loss_fn(ps, x, y):
                W1, b1, W2, b2, W3, b3 = ps
                a = jax.nn.relu(x @ W1.T + b1)
                a = jax.nn.relu(a @ W2.T + b2)
                return xent(a @ W3.T + b3, y)

            def update(ps, gs, state):
                t, ms, vs = state
                t = t + 1
                ms = [0.9 * m + 0.1 * g for m, g in zip(ms, gs)]
                vs = [0.999 * v + 0.001 * g * g for v, g in zip(vs, gs)]
                c1, c2 = 1 - 0.9 ** t, 1 - 0.999 ** t
                ps = [p - (1e-3 / c1) * m / (jnp.sqrt(v) / jnp.sqrt(c2) + 1e-8)
                      for p, m, v in zip(ps, ms, vs)]
                return ps, (t, ms, vs)
            data = (x, y)

        def step(ps, state, *data):
            loss, gs = jax.value_and_grad(loss_fn)(ps, *data)
            ps, state = update(ps, gs, state)
            return loss, ps, state

        jstep = jax.jit(step, donate_argnums=(0, 1))
        ps = [jnp.asarray(p) for p in params]
        zeros = [jnp.zeros_like(p) for p in ps]
        holder = [ps, (jnp.float32(0.0), zeros, [jnp.zeros_like(p) for p in ps])
                  if workload == "w3" else ()]
        data = tuple(jnp.asarray(d) for d in data)

        def call():
            loss, holder[0], holder[1] = jstep(holder[0], holder[1], *data)
            return loss.block_until_ready()
        return call
    return setup


# -- hand-written NumPy --------------------------------------------------------------------


class _Loss:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def item(self):
        return float(self.value)


def _xent_grad(logits, y):
    """Mean cross-entropy and its gradient with respect to the logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = np.mean(np.log(s[:, 0]) - z[np.arange(n), y])
    g = e / s
    g[np.arange(n), y] -= 1
    return loss, g / np.float32(n)


def _numpy_w2():
    params, X, Y = w2_values()
    C, W1, b1, W2, b2 = params

    def step():
        emb = C[X].reshape(-1, 30)
        h = np.tanh(emb @ W1 + b1)
        loss, g = _xent_grad(h @ W2 + b2, Y)
        gW2, gb2 = h.T @ g, g.sum(0)
        gpre = (g @ W2.T) * (1 - h * h)
        gW1, gb1 = emb.T @ gpre, gpre.sum(0)
        gC = np.zeros_like(C)
        np.add.at(gC, X.reshape(-1), (gpre @ W1.T).reshape(-1, 10))
        for p, gp in zip(params, (gC, gW1, gb1, gW2, gb2)):
            p += np.float32(-0.1) * gp
        return _Loss(loss)
    return step


def _numpy_w3():
    params, x, y = w3_values()
    ms = [np.zeros_like(p) for p in params]
    vs = [np.zeros_like(p) for p in params]
    t = [0]

    def step():
        W1, b1, W2, b2, W3, b3 = params
        z1 = x @ W1.T + b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ W2.T + b2
        a2 = np.maximum(z2, 0)
        loss, g3 = _xent_grad(a2 @ W3.T + b3, y)
        g2 = (g3 @ W3) * (z2 > 0)
        g1 = (g2 @ W2) * (z1 > 0)
        grads = (g1.T @ x, g1.sum(0), g2.T @ a1, g2.sum(0), g3.T @ a2, g3.sum(0))
        t[0] += 1
        c1, c2 = 1 - 0.9 ** t[0], 1 - 0.999 ** t[0]
        for p, g, m, v in zip(params, grads, ms, vs):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= np.float32(1e-3 / c1) * m / (np.sqrt(v) / np.float32(c2 ** 0.5) + 1e-8)
        return _Loss(loss)
    return step


def _numpy_w6():
    params, xs, y = w6_values()
    Wxh, Whh, bh, Why, by = params

    def step():
        hs = [np.zeros((W6_B, W6_H), np.float32)]
        for t in range(W6_T):
            hs.append(np.tanh(xs[t] @ Wxh + hs[-1] @ Whh + bh))
        h = hs[-1]
        loss, g = _xent_grad(h @ Why + by, y)
        grads = [np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh), h.T @ g, g.sum(0)]
        gh = g @ Why.T
        for t in range(W6_T - 1, -1, -1):
            gpre = gh * (1 - hs[t + 1] * hs[t + 1])
            grads[0] += xs[t].T @ gpre
            grads[1] += hs[t].T @ gpre
            grads[2] += gpre.sum(0)
            gh = gpre @ Whh.T
        for p, gp in zip(params, grads):
            p -= np.float32(0.01) * gp
        return _Loss(loss)
    return step


def _torch_compile_missing():
    why = torch_missing()
    if why:
        return why
    import os
    if not os.environ.get("STEPJIT_BENCH_TORCH_COMPILE"):
        return ("set STEPJIT_BENCH_TORCH_COMPILE=1 to include it (its first calls take 10-20 s "
                "each on a 2-core machine)")
    return None


def _case(name, workload, description, numpy_step, inner, kernels_only=False):
    glue = [Variant("stepjit kernels", _setup(workload, "stepjit", "kernels"))] if kernels_only else []
    return TargetCase(
        name=name, description=description, baseline="numpy",
        variants=[
            Variant("numpy", numpy_step),
            Variant("stepjit compile", _setup(workload, "stepjit", "compile")), *glue,
            Variant("stepjit eager", _setup(workload, "stepjit", "eager")),
            Variant("torch eager", _setup(workload, "torch", "eager"), unavailable=torch_missing),
            Variant("torch.compile", _setup(workload, "torch", "torch.compile"),
                    unavailable=_torch_compile_missing),
            Variant("jax.jit", _jax_setup(workload), unavailable=jax_missing),
        ],
        reps=100, inner=inner, warmup=80)


CASES = [
    _case("w2_makemore_mlp", "w2", "W2 makemore MLP: C[X] embedding, tanh 200, cross_entropy, "
          "SGD via p.data, batch 32, float32", _numpy_w2, 10, kernels_only=True),
    _case("w3_mnist_mlp_adam", "w3", "W3 MLP 784-256-128-10, batch 128, CrossEntropyLoss, "
          "Adam, float32", _numpy_w3, 5, kernels_only=True),
    _case("w6_rnn_unrolled", "w6", "W6 tanh RNN cell unrolled 16 steps, hidden 64, batch 16, "
          "cross_entropy, SGD, float32", _numpy_w6, 10, kernels_only=True),
]
