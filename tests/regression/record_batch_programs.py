"""Whole programs in the style of NLP tutorials that hand their step a batch record and build
tensors the old way, run on a torch-shaped module `T` (stepjit, or PyTorch by
tests/fixtures/record_record_batches.py).

Each `program(T, wrap=identity)` returns its loss at every step as floats. Weights and data
come from NumPy (seeded), float64, no dropout, so PyTorch's recorded losses are a reference
for stepjit's. `wrap` is applied to the training step: `stepjit.compile` for a compiled run.

- `batch_object_seq2seq`: a GRU encoder and an attention GRU decoder with teacher forcing,
  trained from batch objects as torchtext's legacy iterators yield them (`batch.src` a
  (padded ids, lengths) pair, `batch.trg`, `batch.batch_size`), the step reading the batch
  the loop rebinds (`for batch in iterator: step()`); padding masked out of the attention with
  `masked_fill(mask == 0, -1e10)`, CrossEntropyLoss(ignore_index=pad), clip_grad_norm_, Adam.
- `dict_batch_classifier`: bag of embeddings over padded ids, batches as dicts from a
  DataLoader whose collate_fn pads with pad_sequence (`batch["ids"]`, `batch["label"]`), the
  step reading the dict the loop rebinds; Adam.
- `legacy_tensor_tagger`: a per-word linear tagger over a bag-of-words vector built inside the
  step (`vec = T.zeros(n); vec[i] += 1; return vec.view(1, -1)`, kept in a global), the
  sentence's loss summed into `T.Tensor([0])` in place, parameters updated by hand with
  `p.data.add_(p.grad.data, alpha=-lr)`; the step returns `loss.item() / n`; the loop rebinds
  the sentence (a list of ints) and its tags the step reads.
"""
from __future__ import annotations

import numpy as np

from .heldout_programs import _set_weights

STEPS = 6
PAD = 0


def _identity(fn):
    return fn


class Batch:
    """What a torchtext legacy iterator yields: tensors and bookkeeping as attributes."""

    def __init__(self, src, trg):
        self.src, self.trg = src, trg
        self.batch_size = trg.shape[1]


def _padded(T, rng, rows, vocab, lengths):
    ids = np.full((max(lengths), rows), PAD)
    for j, n in enumerate(lengths):
        ids[:n, j] = rng.randint(1, vocab, n)
    return T.tensor(ids)


def _seq2seq_classes(T):
    nn, F = T.nn, T.nn.functional

    class Encoder(nn.Module):
        def __init__(self, vocab, d):
            super().__init__()
            self.embedding = nn.Embedding(vocab, d)
            self.rnn = nn.GRU(d, d, bidirectional=True)
            self.fc = nn.Linear(2 * d, d)

        def forward(self, src):
            outputs, hidden = self.rnn(self.embedding(src))
            hidden = T.tanh(self.fc(T.cat((hidden[-2], hidden[-1]), dim=1)))
            return outputs, hidden

    class Decoder(nn.Module):
        def __init__(self, vocab, d):
            super().__init__()
            self.vocab = vocab
            self.embedding = nn.Embedding(vocab, d)
            self.attn = nn.Linear(3 * d, d)
            self.v = nn.Linear(d, 1, bias=False)
            self.rnn = nn.GRU(3 * d, d)
            self.out = nn.Linear(4 * d, vocab)

        def forward(self, token, hidden, enc, mask):
            embedded = self.embedding(token.unsqueeze(0))
            keys = enc.permute(1, 0, 2)
            query = hidden.unsqueeze(1).repeat(1, keys.shape[1], 1)
            energy = T.tanh(self.attn(T.cat((query, keys), dim=2)))
            scores = self.v(energy).squeeze(2).masked_fill(mask == 0, -1e10)
            weights = F.softmax(scores, dim=1).unsqueeze(1)
            context = T.bmm(weights, keys).permute(1, 0, 2)
            output, hidden = self.rnn(T.cat((embedded, context), dim=2), hidden.unsqueeze(0))
            pred = self.out(T.cat((output.squeeze(0), context.squeeze(0),
                                   embedded.squeeze(0)), dim=1))
            return pred, hidden.squeeze(0)

    class Seq2Seq(nn.Module):
        def __init__(self, src_vocab, trg_vocab, d):
            super().__init__()
            self.encoder, self.decoder = Encoder(src_vocab, d), Decoder(trg_vocab, d)

        def forward(self, src, trg):
            enc, hidden = self.encoder(src)
            mask = (src != PAD).permute(1, 0)
            outputs = T.zeros(trg.shape[0], trg.shape[1], self.decoder.vocab, dtype=enc.dtype)
            for t in range(1, trg.shape[0]):
                pred, hidden = self.decoder(trg[t - 1], hidden, enc, mask)
                outputs[t] = pred
            return outputs
    return Seq2Seq


def batch_object_seq2seq(T, wrap=_identity, steps=STEPS):
    rng = np.random.RandomState(11)
    model = _seq2seq_classes(T)(9, 8, 6).double()
    _set_weights(T, model, seed=12, scale=0.3)
    opt = T.optim.Adam(model.parameters(), lr=1e-2)
    criterion = T.nn.CrossEntropyLoss(ignore_index=PAD)
    iterator = []
    for _ in range(steps):
        src_len = sorted(rng.randint(2, 6, 4), reverse=True)
        src = _padded(T, rng, 4, 9, src_len)
        iterator.append(Batch((src, T.tensor(src_len)), _padded(T, rng, 4, 8, [5, 3, 4, 5])))
    batch = None

    @wrap
    def step():
        src, _ = batch.src
        trg = batch.trg
        output = model(src, trg)
        loss = criterion(output[1:].reshape(-1, output.shape[-1]), trg[1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        T.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    losses = []
    for batch in iterator:
        losses.append(step().item())
    return losses


def dict_batch_classifier(T, wrap=_identity, steps=STEPS):
    nn = T.nn
    rng = np.random.RandomState(21)
    examples = [{"ids": T.tensor(rng.randint(1, 15, rng.randint(2, 6))),
                 "label": T.tensor(int(rng.randint(0, 3)))} for _ in range(4 * steps)]

    def collate(items):
        return {"ids": nn.utils.rnn.pad_sequence([i["ids"] for i in items], batch_first=True,
                                                 padding_value=PAD),
                "label": T.stack([i["label"] for i in items])}

    loader = T.utils.data.DataLoader(examples, batch_size=4, collate_fn=collate)

    class BagOfEmbeddings(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(15, 6, padding_idx=PAD)
            self.fc = nn.Linear(6, 3)

        def forward(self, ids):
            return self.fc(self.embedding(ids).mean(dim=1))

    model = BagOfEmbeddings().double()
    _set_weights(T, model, seed=22, scale=0.3)
    opt = T.optim.Adam(model.parameters(), lr=1e-2)
    criterion = nn.CrossEntropyLoss()
    batch = None

    @wrap
    def step():
        loss = criterion(model(batch["ids"]), batch["label"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    losses = []
    for batch in loader:
        losses.append(step().item())
    return losses


bow = None


def legacy_tensor_tagger(T, wrap=_identity, steps=STEPS):
    nn = T.nn
    rng = np.random.RandomState(31)
    sentences = [[int(w) for w in rng.randint(0, 10, rng.randint(2, 5))] for _ in range(3)]
    tags = [[int(w) % 3 for w in s] for s in sentences]
    model = nn.Linear(20, 3).double()
    _set_weights(T, model, seed=32, scale=0.3)
    criterion = nn.CrossEntropyLoss()

    def bag_of_words(words):
        vec = T.zeros(10, dtype=T.float64)
        for w in words:
            vec[w] += 1
        return vec.view(1, -1)

    words = targets = None

    @wrap
    def step():
        global bow
        bow = bag_of_words(words)
        model.zero_grad()
        loss = T.Tensor([0]).double()
        for i, w in enumerate(words):
            one_hot = T.zeros(1, 10, dtype=T.float64)
            one_hot[0, w] = 1
            loss += criterion(model(T.cat((bow, one_hot), dim=1)), targets[i:i + 1])
        loss.backward()
        for p in model.parameters():
            p.data.add_(p.grad.data, alpha=-0.1)
        return loss.item() / len(words)

    losses = []
    for k in range(2 * steps):      # (rebinds the step's closure variables)
        words, targets = sentences[k % 3], T.tensor(tags[k % 3])
        losses.append(step())
    return losses


PROGRAMS = {"batch_object_seq2seq": batch_object_seq2seq,
            "dict_batch_classifier": dict_batch_classifier,
            "legacy_tensor_tagger": legacy_tensor_tagger}
