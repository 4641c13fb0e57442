"""A language-model step fed batches whose length changes from call to call.

word_language_model's Transformer variant slices `source[i:i + bptt]` out of a long token
stream, so the last batch of an epoch is shorter, and the causal mask is rebuilt for each
length. Here the length varies on most calls (more distinct lengths than the recompile
limit) and the epoch ends on a short batch: every call must run compiled (no fallback, no
recompile-limit warning) and match the eager run, step by step.
"""
from __future__ import annotations

import warnings

import pytest

import stepjit as torch
import stepjit.nn as nn
import stepjit.nn.functional as F
from stepjit._dynamo import config

from .harness import BACKENDS, Program, run_eager_and_compiled

NTOKEN, D_MODEL, HEADS, HIDDEN = 11, 8, 2, 16
# 11 distinct lengths (over the default recompile limit of 8), ending on a short batch of 2
LENGTHS = [5, 5, 7, 3, 6, 9, 4, 8, 10, 1, 11, 6, 12, 2]


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(NTOKEN, D_MODEL)
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, HIDDEN, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, 1)
        self.head = nn.Linear(D_MODEL, NTOKEN)

    def forward(self, src):
        mask = nn.Transformer.generate_square_subsequent_mask(len(src)).double()
        h = self.encoder(self.embed(src) * D_MODEL ** 0.5, mask)
        return F.log_softmax(self.head(h), dim=-1)


def language_model():
    torch.manual_seed(0)
    model = TinyLM().double()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    stream = torch.randint(0, NTOKEN, (sum(LENGTHS) + 1, 2))
    starts = [sum(LENGTHS[:k]) for k in range(len(LENGTHS))]

    def batch(k):
        i, n = starts[k], LENGTHS[k]
        return stream[i:i + n], stream[i + 1:i + 1 + n]

    def step(data, targets):
        opt.zero_grad()
        out = model(data)
        loss = F.nll_loss(out.view(-1, NTOKEN), targets.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    return Program(step, batch, list(model.parameters()), steps=len(LENGTHS),
                   max_traces=len(set(LENGTHS)) + 1)   # + the trace after .grad was made


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_length_runs_compiled_and_matches_eager(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # a recompile-limit warning fails the test
        (compiled,), _ = run_eager_and_compiled(language_model, backend)
    st = compiled.stats()
    assert st["fallbacks"] == 0, st
    assert st["shape_traces"] == len(set(LENGTHS)) - 1, st
    assert st["traces"] == len(set(LENGTHS)) + 1, st


def test_without_automatic_dynamic_shapes_the_limit_applies():
    prog = language_model()
    step = torch.compile(prog.step, backend="interpret")
    old, config.automatic_dynamic_shapes = config.automatic_dynamic_shapes, False
    try:
        with pytest.warns(UserWarning, match="recompile limit"):
            for k in range(prog.steps):
                step(*prog.args_for(k))
    finally:
        config.automatic_dynamic_shapes = old
    assert step.stats()["fallbacks"] > 0


def test_a_change_other_than_shape_still_counts():
    """A new dtype is not a new shape: it is an ordinary recompile."""
    def f(x):
        return (x * 2).sum()

    c = torch.compile(f, backend="interpret", recompile_limit=2)
    c(torch.ones(3))
    c(torch.ones(4))                        # a new shape: not counted
    c(torch.ones(3, dtype=torch.float64))   # counted: the second trace
    with pytest.warns(UserWarning, match="recompile limit"):
        c(torch.ones(3, dtype=torch.int64))
    assert c.stats()["shape_traces"] == 1 and c.stats()["fallbacks"] == 1
