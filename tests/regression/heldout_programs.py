"""Whole programs written for stepjit's tests in the style of the held-out programs a release
is run against (GPTs built from scratch for teaching, character-level language models), run
on a torch-shaped module `T` (stepjit, or PyTorch by tests/fixtures/record_heldout.py).

Each `program(T, wrap=identity)` returns its loss at every step as floats. Weights, data and
batch starts come from NumPy (seeded), so PyTorch and stepjit start from the same numbers and
PyTorch's recorded losses are a reference for stepjit's (float64, no dropout). `wrap` is
applied to the training step: `stepjit.compile` for a compiled run.

What each reaches for, as the programs it imitates do:
- `scratch_gpt`: a GPT whose parts are written out by hand: causal attention masking scores
  in place with `masked_fill_(mask.bool()[:n, :n], -T.inf)` from a registered
  `triu(ones, diagonal=1)` buffer, heads split with view/transpose and merged with
  contiguous().view, a LayerNorm from mean and var(unbiased=False) with scale/shift
  parameters, GELU's tanh form with `sqrt(tensor(2.0 / T.pi))`, cross_entropy over
  `logits.flatten(0, 1)`, AdamW with weight decay. Its batches are cut inside the step as
  character-level models do: `stack([data[i:i + block] for i in ix])` over the window starts
  `ix` (a tensor), so each slice bound is a traced tensor.
"""
from __future__ import annotations

import numpy as np

STEPS = 6


def _identity(fn):
    return fn


def _set_weights(T, model, seed, scale=0.2):
    """Every parameter (named_parameters order) from one NumPy stream."""
    rng = np.random.RandomState(seed)
    with T.no_grad():
        for _, p in model.named_parameters():
            p.copy_(T.from_numpy(rng.standard_normal(tuple(p.shape)) * scale))


def _scratch_gpt_classes(T):
    nn = T.nn

    class CausalAttention(nn.Module):
        def __init__(self, d, context, heads):
            super().__init__()
            self.heads, self.head_dim = heads, d // heads
            self.query = nn.Linear(d, d, bias=False)
            self.key = nn.Linear(d, d, bias=False)
            self.value = nn.Linear(d, d, bias=False)
            self.proj = nn.Linear(d, d)
            self.register_buffer("mask", T.triu(T.ones(context, context), diagonal=1))

        def forward(self, x):
            b, n, d = x.shape
            q, k, v = (f(x).view(b, n, self.heads, self.head_dim).transpose(1, 2)
                       for f in (self.query, self.key, self.value))
            scores = q @ k.transpose(2, 3)
            scores.masked_fill_(self.mask.bool()[:n, :n], -T.inf)
            weights = T.softmax(scores / k.shape[-1] ** 0.5, dim=-1)
            out = (weights @ v).transpose(1, 2).contiguous().view(b, n, d)
            return self.proj(out)

    class LayerNorm(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.scale = nn.Parameter(T.ones(d))
            self.shift = nn.Parameter(T.zeros(d))

        def forward(self, x):
            mean = x.mean(dim=-1, keepdim=True)
            var = x.var(dim=-1, keepdim=True, unbiased=False)
            return self.scale * (x - mean) / T.sqrt(var + 1e-5) + self.shift

    class GELU(nn.Module):
        def forward(self, x):
            c = T.sqrt(T.tensor(2.0 / T.pi, dtype=T.float64))
            return 0.5 * x * (1 + T.tanh(c * (x + 0.044715 * T.pow(x, 3))))

    class Block(nn.Module):
        def __init__(self, d, context, heads):
            super().__init__()
            self.norm1, self.norm2 = LayerNorm(d), LayerNorm(d)
            self.att = CausalAttention(d, context, heads)
            self.ff = nn.Sequential(nn.Linear(d, 4 * d), GELU(), nn.Linear(4 * d, d))

        def forward(self, x):
            x = x + self.att(self.norm1(x))
            return x + self.ff(self.norm2(x))

    class GPT(nn.Module):
        def __init__(self, vocab, context, d=16, heads=2, layers=2):
            super().__init__()
            self.tok = nn.Embedding(vocab, d)
            self.pos = nn.Embedding(context, d)
            self.blocks = nn.Sequential(*[Block(d, context, heads) for _ in range(layers)])
            self.norm = LayerNorm(d)
            self.out = nn.Linear(d, vocab, bias=False)

        def forward(self, idx):
            n = idx.shape[1]
            x = self.tok(idx) + self.pos(T.arange(n))
            return self.out(self.norm(self.blocks(x)))
    return GPT


def scratch_gpt(T, wrap=_identity, steps=STEPS):
    vocab, block, batch = 11, 8, 3
    model = _scratch_gpt_classes(T)(vocab, block)
    model.to(T.float64)
    _set_weights(T, model, seed=7)
    opt = T.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    data = T.tensor(np.random.RandomState(8).randint(0, vocab, 120))
    starts = np.random.RandomState(9).randint(0, len(data) - block, size=(steps, batch))

    @wrap
    def step(ix):
        x = T.stack([data[i:i + block] for i in ix])
        y = T.stack([data[i + 1:i + block + 1] for i in ix])
        logits = model(x)
        loss = T.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return [step(T.tensor(ix)).item() for ix in starts]


PROGRAMS = {"scratch_gpt": scratch_gpt}
