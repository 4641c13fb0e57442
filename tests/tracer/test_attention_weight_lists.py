"""A decoder that keeps its blocks' attention weights for plotting, the way d2l's Transformer
decoder does (our own program, same patterns): each attention module binds
`self.attention_weights` to the softmax it computed, and the decoder sets
`self._attention_weights = [[None] * n for _ in range(2)]` on every call and then fills it per
block with those same tensors. The nested list is rebound after every call (structures.py), and
its items are also the attention modules' attributes, rebound with it (sources.rebound_names):
a tensor held by a rebound structure and by an attribute is one value with two places, not
state. It was state, so every call traced the step again (3 traces, 7 of 10 calls eager).
Every loss, parameter and kept attention weight equals eager's after every call (float64,
interpret backend: bit for bit)."""
import math

import numpy as np

import stepjit as torch
from stepjit import nn

BLOCKS, CALLS = 2, 8


class Attention(nn.Module):
    def forward(self, q, k, v):
        scores = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(q.shape[-1])
        self.attention_weights = torch.softmax(scores, dim=-1)
        return torch.bmm(self.attention_weights, v)


class Block(nn.Module):
    def __init__(self, i):
        super().__init__()
        self.i = i
        self.attention1, self.attention2 = Attention(), Attention()
        self.ffn = nn.Linear(6, 6)

    def forward(self, X, state):
        if state[2][self.i] is None:    # (training: the whole target at once)
            key_values = X
        else:
            key_values = torch.cat((state[2][self.i], X), dim=1)
        state[2][self.i] = key_values
        Y = X + self.attention1(X, key_values, key_values)
        Z = Y + self.attention2(Y, state[0], state[0])
        return self.ffn(Z), state


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.blks = nn.Sequential(*[Block(i) for i in range(BLOCKS)])
        self.dense = nn.Linear(6, 5)

    def init_state(self, enc_outputs):
        return [enc_outputs, None, [None] * BLOCKS]

    def forward(self, X, state):
        self._attention_weights = [[None] * len(self.blks) for _ in range(2)]
        for i, blk in enumerate(self.blks):
            X, state = blk(X, state)
            self._attention_weights[0][i] = blk.attention1.attention_weights
            self._attention_weights[1][i] = blk.attention2.attention_weights
        return self.dense(X), state


def _train(compiled):
    torch.manual_seed(0)
    enc, dec = nn.Linear(6, 6).double(), Decoder().double()
    opt = torch.optim.SGD([*enc.parameters(), *dec.parameters()], lr=0.1)
    xs = torch.randn(CALLS, 3, 4, 6, dtype=torch.float64)
    ys = torch.randn(CALLS, 3, 5, 6, dtype=torch.float64)
    ts = torch.randint(0, 5, (CALLS, 3, 5))

    def step(x, y, t):
        state = dec.init_state(enc(x))
        out, state = dec(y, state)
        loss = nn.functional.cross_entropy(out.reshape(-1, 5), t.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    f = torch.compile(step, backend="interpret") if compiled else step
    seen = []
    for i in range(CALLS):
        loss = f(xs[i], ys[i], ts[i])
        kept = [[w.detach().numpy().copy() for w in row] for row in dec._attention_weights]
        attrs = [[b.attention1.attention_weights.detach().numpy().copy() for b in dec.blks],
                 [b.attention2.attention_weights.detach().numpy().copy() for b in dec.blks]]
        seen.append((loss.item(), kept, attrs, [p.detach().numpy().copy()
                                                for p in dec.parameters()]))
    return seen, f


def test_kept_attention_weights_replay_with_the_step():
    want, _ = _train(False)
    got, f = _train(True)
    for (l1, k1, a1, p1), (l2, k2, a2, p2) in zip(got, want):
        assert l1 == l2
        for r1, r2, s1, s2 in zip(k1, k2, a1, a2):
            for x, y, u, v in zip(r1, r2, s1, s2):
                np.testing.assert_array_equal(x, y)
                np.testing.assert_array_equal(u, v)
                np.testing.assert_array_equal(x, u)
        for x, y in zip(p1, p2):
            np.testing.assert_array_equal(x, y)
    st = f.stats()
    # the first call, then the parameters' .grad present (was: 3 traces, 7 calls eager)
    assert st["traces"] <= 2 and st["eager_calls"] == 0 and st["mode"] == "tree", st
