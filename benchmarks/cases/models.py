"""Real-model training steps W7 (a small CNN) and W8 (a 2-layer character transformer), each
run as stepjit compiled and eager, PyTorch eager and torch.compile, jax.jit, and (W7) NumPy by
hand, from the same initial values.

W7  CNN on MNIST-shaped input: Conv2d(1, 8, 3, padding=1), ReLU, MaxPool2d(2), Linear(8*14*14,
    10), nn.CrossEntropyLoss, optim.SGD(lr=0.01, momentum=0.9); batch 32 of 1x28x28.
W8  character transformer in nanoGPT's shape: token and position Embedding, 2 blocks of
    (LayerNorm, causal self-attention through F.scaled_dot_product_attention with 2 heads,
    LayerNorm, MLP 4x with GELU), a final LayerNorm and a linear head; F.cross_entropy,
    optim.AdamW(lr=1e-3, weight_decay=0.1); block 16, n_embd 32, vocab 65, batch 16.

The model is written once (`make_*(torch, cfg)`) and run by stepjit and by PyTorch; the
parameters are copied in from NumPy arrays in `parameters()` order, so every variant starts
from the same values. `cfg` sets the sizes (tests run the same code at small ones). W8 has no
NumPy variant (a transformer's backward written by hand is not a fair or common baseline);
its baseline is stepjit eager.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..harness import Variant
from ._examples import torch_missing
from ._targets import TargetCase, jax_missing, numba_threads
from .workloads import _Loss, _fw, _torch_compile_missing, _xent_grad


@dataclass(frozen=True)
class CNN:
    batch: int = 32
    side: int = 28
    channels: int = 8
    classes: int = 10
    lr: float = 0.01
    momentum: float = 0.9


@dataclass(frozen=True)
class GPT:
    batch: int = 16
    block: int = 16
    n_embd: int = 32
    heads: int = 2
    layers: int = 2
    vocab: int = 65
    lr: float = 1e-3
    weight_decay: float = 0.1


def _rng():
    return np.random.default_rng(4321)


def _uniform(r, bound, shape):
    return r.uniform(-bound, bound, shape).astype(np.float32)


# -- W7: CNN --------------------------------------------------------------------------------


def cnn_values(cfg=CNN()):
    """[conv.weight, conv.bias, fc.weight, fc.bias], x, y."""
    r = _rng()
    c, side = cfg.channels, cfg.side // 2
    fan = 9
    params = [_uniform(r, fan ** -0.5, (c, 1, 3, 3)), _uniform(r, fan ** -0.5, c)]
    fan = c * side * side
    params += [_uniform(r, fan ** -0.5, (cfg.classes, fan)), _uniform(r, fan ** -0.5, cfg.classes)]
    x = r.standard_normal((cfg.batch, 1, cfg.side, cfg.side)).astype(np.float32)
    y = r.integers(0, cfg.classes, cfg.batch).astype(np.int64)
    return params, x, y


def make_cnn(torch, cfg=CNN()):
    nn = torch.nn
    F = nn.functional
    side = cfg.side // 2

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, cfg.channels, 3, padding=1)
            self.fc = nn.Linear(cfg.channels * side * side, cfg.classes)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv(x)), 2)
            return self.fc(torch.flatten(x, 1))

    model = Net()
    params, x, y = cnn_values(cfg)
    _load(torch, model, params)
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step, [torch.from_numpy(x), torch.from_numpy(y)]


def _load(torch, model, values):
    with torch.no_grad():
        for p, v in zip(model.parameters(), values, strict=True):
            p.copy_(torch.from_numpy(v.copy()))


def _numpy_cnn(cfg=CNN()):
    """im2col convolution, 2x2 max pooling by reshape, their backward, SGD with momentum."""
    params, x, y = cnn_values(cfg)
    n, c, s = cfg.batch, cfg.channels, cfg.side
    bufs = [None] * len(params)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = np.lib.stride_tricks.sliding_window_view(xp[:, 0], (3, 3), axis=(1, 2))
    cols = np.ascontiguousarray(win.reshape(n, s * s, 9))          # (N, H*W, 9)

    def step():
        wc, bc, wf, bf = params
        z = cols @ wc.reshape(c, 9).T + bc                           # (N, H*W, C)
        a = np.maximum(z, 0).reshape(n, s // 2, 2, s // 2, 2, c)
        pooled = a.max(axis=(2, 4))                                  # (N, H/2, W/2, C)
        flat = pooled.transpose(0, 3, 1, 2).reshape(n, -1)           # PyTorch's flatten order
        loss, g = _xent_grad(flat @ wf.T + bf, y)
        gwf, gbf = g.T @ flat, g.sum(0)
        gp = (g @ wf).reshape(n, c, s // 2, s // 2).transpose(0, 2, 3, 1)
        first = _first_max(a, pooled)
        ga = (first * gp[:, :, None, :, None, :]).reshape(n, s * s, c)
        gz = ga * (z > 0)
        gwc = np.einsum("npk,npc->ck", cols, gz).reshape(c, 1, 3, 3)
        grads = (gwc, gz.sum((0, 1)), gwf, gbf)
        for i, (p, gr) in enumerate(zip(params, grads)):
            if bufs[i] is None:
                bufs[i] = gr.copy()
            else:
                bufs[i] *= np.float32(cfg.momentum)
                bufs[i] += gr
            p -= np.float32(cfg.lr) * bufs[i]
        return _Loss(loss)
    return step


def _first_max(a, pooled):
    """1 at the first maximum of each 2x2 window (PyTorch's gradient target), else 0."""
    hit = a == pooled[:, :, None, :, None, :]
    n, h, _, w, _, c = a.shape
    flat = hit.transpose(0, 1, 3, 5, 2, 4).reshape(n, h, w, c, 4)
    first = np.zeros_like(flat, dtype=np.float32)
    np.put_along_axis(first, flat.argmax(-1)[..., None], 1.0, -1)
    return first.reshape(n, h, w, c, 2, 2).transpose(0, 1, 4, 2, 5, 3)


# -- W8: character transformer ----------------------------------------------------------------


def gpt_values(cfg=GPT()):
    """Parameters in the model's `parameters()` order, token ids x and targets y."""
    r = _rng()
    e = cfg.n_embd
    ps = [(r.standard_normal((cfg.vocab, e)) * 0.02).astype(np.float32),
          (r.standard_normal((cfg.block, e)) * 0.02).astype(np.float32)]
    for _ in range(cfg.layers):
        ps += [np.ones(e, np.float32), np.zeros(e, np.float32)]              # ln1
        ps += [_uniform(r, e ** -0.5, (3 * e, e)), _uniform(r, e ** -0.5, 3 * e)]   # qkv
        ps += [_uniform(r, e ** -0.5, (e, e)), _uniform(r, e ** -0.5, e)]   # proj
        ps += [np.ones(e, np.float32), np.zeros(e, np.float32)]              # ln2
        ps += [_uniform(r, e ** -0.5, (4 * e, e)), _uniform(r, e ** -0.5, 4 * e)]   # fc
        ps += [_uniform(r, (4 * e) ** -0.5, (e, 4 * e)), _uniform(r, (4 * e) ** -0.5, e)]
    ps += [np.ones(e, np.float32), np.zeros(e, np.float32)]                  # ln_f
    ps += [_uniform(r, e ** -0.5, (cfg.vocab, e))]                           # head
    x = r.integers(0, cfg.vocab, (cfg.batch, cfg.block)).astype(np.int64)
    y = r.integers(0, cfg.vocab, (cfg.batch, cfg.block)).astype(np.int64)
    return ps, x, y


def make_gpt(torch, cfg=GPT()):
    nn = torch.nn
    F = nn.functional
    e, h = cfg.n_embd, cfg.heads

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(e)
            self.qkv = nn.Linear(e, 3 * e)
            self.proj = nn.Linear(e, e)
            self.ln2 = nn.LayerNorm(e)
            self.fc = nn.Linear(e, 4 * e)
            self.out = nn.Linear(4 * e, e)

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(e, dim=2)
            q, k, v = (z.view(b, t, h, e // h).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).contiguous().view(b, t, e))
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class GPTModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(cfg.vocab, e)
            self.pos = nn.Embedding(cfg.block, e)
            self.blocks = nn.ModuleList([Block() for _ in range(cfg.layers)])
            self.ln_f = nn.LayerNorm(e)
            self.head = nn.Linear(e, cfg.vocab, bias=False)

        def forward(self, idx, targets):
            t = idx.shape[1]
            x = self.tok(idx) + self.pos(torch.arange(t))
            for block in self.blocks:
                x = block(x)
            logits = self.head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    model = GPTModel()
    params, x, y = gpt_values(cfg)
    _load(torch, model, params)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    def step(x, y):
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss
    return step, [torch.from_numpy(x), torch.from_numpy(y)]


# -- variants ---------------------------------------------------------------------------------


def setup(make, fw_name, mode, cfg):
    """A variant's setup: mode "eager" or "compile" (stepjit.compile or torch.compile)."""
    def build():
        fw = _fw(fw_name)
        if fw_name == "stepjit":
            numba_threads()
        step, args = make(fw, cfg)
        if mode == "compile":
            step = fw.compile(step)
        return lambda: step(*args)
    return build


def _jax_cnn(cfg=CNN()):
    def build():
        import jax
        import jax.numpy as jnp
        params, x, y = cnn_values(cfg)

        def loss_fn(ps, x, y):
            wc, bc, wf, bf = ps
            z = jax.lax.conv_general_dilated(x, wc, (1, 1), ((1, 1), (1, 1)))
            a = jax.nn.relu(z + bc[None, :, None, None])
            a = jax.lax.reduce_window(a, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2),
                                      "VALID")
            return _jax_xent(jax, jnp, a.reshape(a.shape[0], -1) @ wf.T + bf, y)

        def update(ps, gs, bufs):
            bufs = [cfg.momentum * b + g for b, g in zip(bufs, gs)]
            return [p - cfg.lr * b for p, b in zip(ps, bufs)], bufs
        # momentum buffers start at zero: SGD's first step (buf = g) is the same update
        return _jax_step(jax, jnp, loss_fn, update, params, [jnp.zeros_like(jnp.asarray(p))
                                                             for p in params], x, y)
    return build


def _jax_gpt(cfg=GPT()):
    def build():
        import jax
        import jax.numpy as jnp
        params, x, y = gpt_values(cfg)
        e, nh = cfg.n_embd, cfg.heads

        def ln(x, w, b):
            mu = x.mean(-1, keepdims=True)
            var = ((x - mu) ** 2).mean(-1, keepdims=True)
            return (x - mu) / jnp.sqrt(var + 1e-5) * w + b

        def loss_fn(ps, idx, targets):
            b, t = idx.shape
            x = ps[0][idx] + ps[1][:t]
            causal = jnp.tril(jnp.ones((t, t), bool))
            for i in range(cfg.layers):
                w1, b1, wqkv, bqkv, wp, bp, w2, b2, wfc, bfc, wo, bo = ps[2 + 12 * i: 14 + 12 * i]
                qkv = ln(x, w1, b1) @ wqkv.T + bqkv
                q, k, v = (z.reshape(b, t, nh, e // nh).transpose(0, 2, 1, 3)
                           for z in jnp.split(qkv, 3, axis=2))
                att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(e // nh)
                att = jax.nn.softmax(jnp.where(causal, att, -jnp.inf), axis=-1)
                yv = (att @ v).transpose(0, 2, 1, 3).reshape(b, t, e)
                x = x + yv @ wp.T + bp
                x = x + jax.nn.gelu(ln(x, w2, b2) @ wfc.T + bfc, approximate=False) @ wo.T + bo
            logits = ln(x, ps[-3], ps[-2]) @ ps[-1].T
            return _jax_xent(jax, jnp, logits.reshape(-1, cfg.vocab), targets.reshape(-1))

        def update(ps, gs, state):
            t, ms, vs = state
            t = t + 1
            ms = [0.9 * m + 0.1 * g for m, g in zip(ms, gs)]
            vs = [0.999 * v + 0.001 * g * g for v, g in zip(vs, gs)]
            c1, c2 = 1 - 0.9 ** t, 1 - 0.999 ** t
            ps = [p * (1 - cfg.lr * cfg.weight_decay)
                  - (cfg.lr / c1) * m / (jnp.sqrt(v) / jnp.sqrt(c2) + 1e-8)
                  for p, m, v in zip(ps, ms, vs)]
            return ps, (t, ms, vs)
        zeros = [jnp.zeros_like(jnp.asarray(p)) for p in params]
        return _jax_step(jax, jnp, loss_fn, update, params,
                         (jnp.float32(0.0), zeros, [jnp.zeros_like(z) for z in zeros]), x, y)
    return build


def _jax_xent(jax, jnp, logits, y):
    return jnp.mean(jax.nn.logsumexp(logits, axis=1)
                    - jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0])


def _jax_step(jax, jnp, loss_fn, update, params, state, *data):
    def step(ps, state, *data):
        loss, gs = jax.value_and_grad(loss_fn)(ps, *data)
        ps, state = update(ps, gs, state)
        return loss, ps, state

    jstep = jax.jit(step, donate_argnums=(0, 1))
    holder = [[jnp.asarray(p) for p in params], state]
    data = tuple(jnp.asarray(d) for d in data)

    def call():
        loss, holder[0], holder[1] = jstep(holder[0], holder[1], *data)
        return loss.block_until_ready()
    return call


def variants(make, cfg, numpy_step=None, jax_step=None):
    out = [Variant("numpy", lambda: numpy_step(cfg))] if numpy_step else []
    out += [
        Variant("stepjit compile", setup(make, "stepjit", "compile", cfg)),
        Variant("stepjit eager", setup(make, "stepjit", "eager", cfg)),
        Variant("torch eager", setup(make, "torch", "eager", cfg), unavailable=torch_missing),
        Variant("torch.compile", setup(make, "torch", "compile", cfg),
                unavailable=_torch_compile_missing),
    ]
    if jax_step:
        out.append(Variant("jax.jit", jax_step(cfg), unavailable=jax_missing))
    return out


CASES = [
    TargetCase(name="w7_cnn", description="W7 CNN: Conv2d(1, 8, 3) ReLU MaxPool2d(2) Linear, "
               "CrossEntropyLoss, SGD momentum, batch 32 of 1x28x28, float32",
               variants=variants(make_cnn, CNN(), _numpy_cnn, _jax_cnn), baseline="numpy",
               reps=60, inner=3, warmup=20),
    TargetCase(name="w8_char_transformer", description="W8 character transformer: 2 layers, "
               "n_embd 32, 2 heads, block 16, batch 16, LayerNorm, sdpa, GELU, AdamW, float32",
               variants=variants(make_gpt, GPT(), jax_step=_jax_gpt), baseline="stepjit eager",
               reps=60, inner=3, warmup=20),
]
