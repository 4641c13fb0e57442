"""A sequence-to-sequence translation step in the style of course assignments' NMT models
(a bidirectional LSTM encoder, an LSTMCell decoder with multiplicative attention), run on a
torch-shaped module `T` (stepjit, or PyTorch by tests/fixtures/record_translation.py).

`attention_nmt(T, wrap=identity)` returns its loss at every step as floats. Weights and
token ids come from NumPy (seeded), in float64 without dropout, so PyTorch's recorded
losses are a reference for stepjit's. `wrap` is applied to the training step.

What it reaches for, as those models do: source embeddings packed with
`pack_padded_sequence(x, lengths)` (a Python list, longest first) into a bidirectional
LSTM and unpacked again; the two directions' last states concatenated and projected into
the decoder's first state; a padding mask built by slice assignment in a Python loop over
the lengths; per target step, `split(..., 1)` of the target embeddings, input feeding
(`cat` of the embedding and the previous output), attention scores from `bmm` masked in
place through `.data.masked_fill_(mask.bool(), -inf)` (the mask must not enter the
gradient), softmax and a `bmm` context; `log_softmax` over the vocabulary and the gold
words' log-probabilities by `gather`, zeroed at padded targets; `clip_grad_norm_` and Adam.
"""
from __future__ import annotations

import numpy as np

STEPS = 4
def _identity(fn):
    return fn


def _set_weights(T, model, seed, scale=0.2):
    """Every parameter (named_parameters order) from one NumPy stream."""
    rng = np.random.RandomState(seed)
    with T.no_grad():
        for _, p in model.named_parameters():
            p.copy_(T.from_numpy(rng.standard_normal(tuple(p.shape)) * scale))


def _attention_nmt_class(T):
    nn, F = T.nn, T.nn.functional
    pack, unpack = nn.utils.rnn.pack_padded_sequence, nn.utils.rnn.pad_packed_sequence

    class Translator(nn.Module):
        def __init__(self, src_vocab, tgt_vocab, size):
            super().__init__()
            self.size = size
            self.src_embed = nn.Embedding(src_vocab, size, padding_idx=0)
            self.tgt_embed = nn.Embedding(tgt_vocab, size, padding_idx=0)
            self.encoder = nn.LSTM(size, size, bidirectional=True)
            self.init_h = nn.Linear(2 * size, size, bias=False)
            self.init_c = nn.Linear(2 * size, size, bias=False)
            self.key = nn.Linear(2 * size, size, bias=False)
            self.decoder = nn.LSTMCell(2 * size, size)
            self.combine = nn.Linear(3 * size, size, bias=False)
            self.vocab_out = nn.Linear(size, tgt_vocab, bias=False)

        def forward(self, src, src_lengths, tgt):
            states, (h, c) = self.encoder(pack(self.src_embed(src), src_lengths))
            states = unpack(states)[0].transpose(0, 1)              # (batch, src_len, 2*size)
            pad = T.zeros(states.shape[:2])
            for b, n in enumerate(src_lengths):
                pad[b, n:] = 1
            keys = self.key(states)
            state = (self.init_h(T.cat((h[0], h[1]), 1)), self.init_c(T.cat((c[0], c[1]), 1)))
            prev = T.zeros(src.shape[1], self.size)
            outs = []
            for y in T.split(self.tgt_embed(tgt[:-1]), 1, dim=0):
                state = self.decoder(T.cat((y.squeeze(0), prev), 1), state)
                scores = keys.bmm(state[0].unsqueeze(2)).squeeze(2)
                scores.data.masked_fill_(pad.bool(), -float("inf"))
                weights = F.softmax(scores, dim=1)
                context = T.bmm(weights.unsqueeze(1), states).squeeze(1)
                prev = T.tanh(self.combine(T.cat((state[0], context), 1)))
                outs.append(prev)
            logp = F.log_softmax(self.vocab_out(T.stack(outs)), dim=-1)
            gold = T.gather(logp, index=tgt[1:].unsqueeze(-1), dim=-1).squeeze(-1)
            return (gold * (tgt[1:] != 0).float()).sum(dim=0)
    return Translator


def attention_nmt(T, wrap=_identity, steps=STEPS):
    src_vocab, tgt_vocab, size, batch = 9, 7, 6, 3
    T.set_default_dtype(T.float64)     # (the zeros the forward makes are float64 too)
    try:
        model = _attention_nmt_class(T)(src_vocab, tgt_vocab, size)
    finally:
        T.set_default_dtype(T.float32)
    model.to(T.float64)
    _set_weights(T, model, seed=11)
    opt = T.optim.Adam(model.parameters(), lr=1e-2)
    src_lengths = [5, 4, 2]                       # sorted longest first, as pack expects
    rng = np.random.RandomState(12)

    @wrap
    def step(src, tgt):
        opt.zero_grad()
        loss = -model(src, src_lengths, tgt).sum() / batch
        loss.backward()
        T.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return loss

    losses = []
    for _ in range(steps):
        src = rng.randint(1, src_vocab, size=(5, batch))
        for b, n in enumerate(src_lengths):
            src[n:, b] = 0
        tgt = rng.randint(1, tgt_vocab, size=(4, batch))
        tgt[3, 2] = 0                              # one padded target position
        losses.append(step(T.tensor(src), T.tensor(tgt)).item())
    return losses

PROGRAMS = {"attention_nmt": attention_nmt}
