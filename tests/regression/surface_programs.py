"""Whole programs in the style of nanoGPT and d2l, written for stepjit's tests, run on a
torch-shaped module `T` (stepjit, or PyTorch by tests/fixtures/record_surface.py).

Each `program(T, wrap=identity)` returns its loss at every step as floats. The weights and the
data come from NumPy (seeded), not from `T`'s generator, so PyTorch and stepjit start from
the same numbers and the recorded PyTorch losses are a reference for stepjit's (float64,
dropout off). `wrap` is applied to the training step: `stepjit.compile` for a compiled run.

What each reaches for, as the programs it imitates do:
- `tiny_gpt`: a GPT (token + position embeddings, causal self-attention through
  F.scaled_dot_product_attention(is_causal=True) or a registered tril mask with masked_fill,
  LayerNorm(bias=False), GELU(approximate='tanh'), lm_head weight tied to the embedding,
  module.apply init), AdamW with decay/no-decay param groups chosen by p.dim() and
  `inspect.signature(AdamW)` for `fused`, a warmup + cosine lr written into param_groups
  between steps, clip_grad_norm_, a disabled GradScaler and a nullcontext autocast, batches
  cut from an np.memmap of uint16 tokens with from_numpy(...astype(np.int64)) and moved with
  .to(device, non_blocking=True).
- `d2l_softmax_scratch`: softmax regression from scratch (normal-initialized W with
  requires_grad, softmax by exp/sum(keepdims=True), cross-entropy by indexing y_hat with a
  Python list and the labels), a DataLoader over a TensorDataset, and d2l's trainer habit of
  calling backward and the hand-written SGD (`param -= lr * param.grad`) under no_grad.
- `d2l_softmax_concise`: Flatten + LazyLinear materialized by a first call, CrossEntropyLoss,
  optim.SGD with weight_decay.
- `d2l_rnn_scratch`: an RNN from scratch over one-hot inputs (F.one_hot(X.T)), outputs
  stacked, gradients clipped by their global norm as d2l does (`if norm > theta:
  p.grad[:] *= theta / norm`).
"""
from __future__ import annotations

import contextlib
import inspect
import math
import os
import tempfile

import numpy as np

STEPS = 6


def _identity(fn):
    return fn


def _set_weights(T, model, seed, scale=0.2):
    """Every parameter (named_parameters order, tied ones once) from one NumPy stream."""
    rng = np.random.RandomState(seed)
    with T.no_grad():
        for _, p in model.named_parameters():
            p.copy_(T.from_numpy(rng.standard_normal(tuple(p.shape)) * scale))


# -- nanoGPT-style --------------------------------------------------------------------------

def _gpt_classes(T, flash):
    nn, F = T.nn, T.nn.functional

    class SelfAttention(nn.Module):
        def __init__(self, n_embd, n_head, block):
            super().__init__()
            self.qkv = nn.Linear(n_embd, 3 * n_embd, bias=False)
            self.proj = nn.Linear(n_embd, n_embd, bias=False)
            self.n_head = n_head
            if not flash:
                mask = T.tril(T.ones(block, block)).view(1, 1, block, block)
                self.register_buffer("mask", mask)

        def forward(self, x):
            B, L, C = x.size()
            q, k, v = self.qkv(x).split(C, dim=2)
            q, k, v = (t.view(B, L, self.n_head, C // self.n_head).transpose(1, 2)
                       for t in (q, k, v))
            if flash:
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0,
                                                   is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
                att = att.masked_fill(self.mask[:, :, :L, :L] == 0, float("-inf"))
                y = F.softmax(att, dim=-1) @ v
            return self.proj(y.transpose(1, 2).contiguous().view(B, L, C))

    class Block(nn.Module):
        def __init__(self, n_embd, n_head, block):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd, bias=False)
            self.attn = SelfAttention(n_embd, n_head, block)
            self.ln_2 = nn.LayerNorm(n_embd, bias=False)
            self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(approximate="tanh"),
                                     nn.Linear(4 * n_embd, n_embd), nn.Dropout(0.0))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self, vocab, block, n_layer, n_embd, n_head):
            super().__init__()
            self.block = block
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(vocab, n_embd), wpe=nn.Embedding(block, n_embd),
                h=nn.ModuleList([Block(n_embd, n_head, block) for _ in range(n_layer)]),
                ln_f=nn.LayerNorm(n_embd, bias=False)))
            self.lm_head = nn.Linear(n_embd, vocab, bias=False)
            self.transformer.wte.weight = self.lm_head.weight      # weight tying
            self.apply(self._init)

        def _init(self, module):
            if isinstance(module, (nn.Linear, nn.Embedding)):
                T.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets):
            b, L = idx.size()
            pos = T.arange(0, L, dtype=T.long)
            x = self.transformer.wte(idx) + self.transformer.wpe(pos)
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                   ignore_index=-1)

        def configure_optimizers(self, weight_decay, lr, betas):
            params = {n: p for n, p in self.named_parameters() if p.requires_grad}
            groups = [{"params": [p for p in params.values() if p.dim() >= 2],
                       "weight_decay": weight_decay},
                      {"params": [p for p in params.values() if p.dim() < 2],
                       "weight_decay": 0.0}]
            extra = dict(fused=False) if "fused" in inspect.signature(T.optim.AdamW).parameters \
                else {}
            return T.optim.AdamW(groups, lr=lr, betas=betas, **extra)

    return GPT


def tiny_gpt(T, wrap=_identity, flash=True, steps=STEPS):
    vocab, block, batch = 13, 8, 4
    GPT = _gpt_classes(T, flash)
    model = GPT(vocab, block, n_layer=2, n_embd=16, n_head=2)
    model.to(T.float64)
    _set_weights(T, model, seed=1)
    opt = model.configure_optimizers(weight_decay=0.1, lr=3e-2, betas=(0.9, 0.95))
    scaler = T.amp.GradScaler("cpu", enabled=False)
    ctx = contextlib.nullcontext()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.bin")
        np.random.RandomState(2).randint(0, vocab, 400).astype(np.uint16).tofile(path)
        rng = np.random.RandomState(3)

        def get_batch():
            data = np.memmap(path, dtype=np.uint16, mode="r")
            ix = rng.randint(len(data) - block, size=batch)
            x = T.stack([T.from_numpy(data[i:i + block].astype(np.int64)) for i in ix])
            y = T.stack([T.from_numpy(data[i + 1:i + 1 + block].astype(np.int64)) for i in ix])
            return x.to("cpu", non_blocking=True), y.to("cpu", non_blocking=True)

        def get_lr(it, warmup=2, lr=3e-2, min_lr=3e-3):
            if it < warmup:
                return lr * (it + 1) / (warmup + 1)
            ratio = (it - warmup) / (steps - warmup)
            return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)

        @wrap
        def step(X, Y):
            with ctx:
                loss = model(X, Y)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            T.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(opt)
            scaler.update()
            opt.zero_grad(set_to_none=True)
            return loss

        losses = []
        for it in range(steps):
            for group in opt.param_groups:
                group["lr"] = get_lr(it)
            X, Y = get_batch()
            losses.append(step(X, Y).item())
    return losses


# -- d2l-style ------------------------------------------------------------------------------

def _classification_data(T, n=48, d=12, k=4, seed=5):
    rng = np.random.RandomState(seed)
    X = T.from_numpy(rng.standard_normal((n, 1, 3, d // 3)))
    y = T.from_numpy(rng.randint(0, k, n).astype(np.int64))
    return T.utils.data.DataLoader(T.utils.data.TensorDataset(X, y), batch_size=16,
                                   shuffle=False)


def d2l_softmax_scratch(T, wrap=_identity, epochs=2):
    d, k, lr = 12, 4, 0.5
    W = T.from_numpy(np.random.RandomState(6).normal(0, 0.01, (d, k))).requires_grad_(True)
    b = T.zeros(k, dtype=T.float64, requires_grad=True)

    def softmax(X):
        X_exp = T.exp(X)
        return X_exp / X_exp.sum(1, keepdims=True)

    def net(X):
        return softmax(T.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def cross_entropy(y_hat, y):
        return -T.log(y_hat[list(range(len(y_hat))), y]).mean()

    @wrap
    def step(X, y):
        for p in (W, b):
            if p.grad is not None:
                p.grad.zero_()
        loss = cross_entropy(net(X), y)
        with T.no_grad():
            loss.backward()
            for p in (W, b):
                p -= lr * p.grad
        return loss

    return [step(X, y).item() for _ in range(epochs) for X, y in _classification_data(T)]


def d2l_softmax_concise(T, wrap=_identity, epochs=2):
    nn = T.nn
    net = nn.Sequential(nn.Flatten(), nn.LazyLinear(4))
    net(T.zeros(1, 1, 3, 4))                            # d2l's apply_init: shapes from data
    net.to(T.float64)
    _set_weights(T, net, seed=7, scale=0.05)
    loss_fn = nn.CrossEntropyLoss()
    opt = T.optim.SGD(net.parameters(), lr=0.3, weight_decay=1e-3)

    @wrap
    def step(X, y):
        loss = loss_fn(net(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return [step(X, y).item() for _ in range(epochs) for X, y in _classification_data(T)]


def d2l_rnn_scratch(T, wrap=_identity, steps=STEPS):
    F = T.nn.functional
    vocab, hidden, num_steps, batch, lr, theta = 10, 16, 5, 4, 1.0, 1.0
    rng = np.random.RandomState(8)

    def weight(*shape, scale=0.3):
        return T.from_numpy(rng.standard_normal(shape) * scale).requires_grad_(True)

    W_xh, W_hh, b_h = weight(vocab, hidden), weight(hidden, hidden), weight(hidden, scale=0.0)
    W_hq, b_q = weight(hidden, vocab), weight(vocab, scale=0.0)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    corpus = rng.randint(0, vocab, 200)

    def rnn(inputs, state):
        outputs = []
        for X in inputs:                       # (num_steps, batch, vocab): one step at a time
            state = T.tanh(T.matmul(X, W_xh) + T.matmul(state, W_hh) + b_h)
            outputs.append(state)
        return outputs, state

    def clip_gradients(theta):
        norm = T.sqrt(sum(T.sum(p.grad ** 2) for p in params))
        if norm > theta:
            for p in params:
                p.grad[:] *= theta / norm

    @wrap
    def step(X, Y):
        embs = F.one_hot(X.T, vocab).to(T.float64)
        state = T.zeros((X.shape[0], hidden), dtype=T.float64)
        rnn_outputs, _ = rnn(embs, state)
        out = T.stack([T.matmul(H, W_hq) + b_q for H in rnn_outputs], 1)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), Y.reshape(-1))
        loss.backward()
        with T.no_grad():
            clip_gradients(theta)
            for p in params:
                p -= lr * p.grad
                p.grad.zero_()
        return loss

    losses = []
    for it in range(steps):
        starts = rng.randint(0, len(corpus) - num_steps - 1, size=batch)
        X = T.tensor(np.stack([corpus[s:s + num_steps] for s in starts]))
        Y = T.tensor(np.stack([corpus[s + 1:s + num_steps + 1] for s in starts]))
        losses.append(step(X, Y).item())
    return losses


PROGRAMS = {
    "tiny_gpt": tiny_gpt,
    "tiny_gpt_masked": lambda T, wrap=_identity: tiny_gpt(T, wrap, flash=False),
    "d2l_softmax_scratch": d2l_softmax_scratch,
    "d2l_softmax_concise": d2l_softmax_concise,
    "d2l_rnn_scratch": d2l_rnn_scratch,
}
