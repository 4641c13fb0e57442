"""Whole programs written for stepjit's tests in the style of teaching code that builds models
from scratch (book chapters that pretrain and finetune a small GPT, lecture GPTs, collections
of architectures written out by hand), run on a torch-shaped module `T` (stepjit, or PyTorch by
tests/fixtures/record_from_scratch.py).

Each `program(T, wrap=identity)` returns its loss at every step as floats. Weights and data
come from NumPy (seeded); where a program draws random numbers itself (dropout, stochastic
depth), the recorder makes PyTorch draw them from stepjit's generator
(tests/real/torch_streams.py), so PyTorch's recorded losses are a reference for stepjit's.
`wrap` is applied to the training step: `stepjit.compile` for a compiled run.

What each reaches for, as the programs it imitates do:
- `eval_counter_gpt`: a lecture GPT's loop, whose step reads the loop counter to evaluate now
  and then (`if it % eval_interval == 0 or it == max_iters - 1:` an `@no_grad()` estimate
  over fixed batches with eval()/train(), printed), cuts its batch at tensor positions
  (`stack([data[i:i + block] for i in ix])`: data-dependent decisions), and steps AdamW after
  `zero_grad(set_to_none=True)`.
- `frozen_head_classifier`, `lora_classifier`: a book's classification finetuning: pretrained
  weights put in with `nn.Parameter(T.tensor(array))` assignments (qkv biases split from one
  array), every parameter frozen, a new two-class `out_head`, the last block and final norm
  unfrozen, the loss on the last token's logits (`model(x)[:, -1, :]`), AdamW over all
  parameters (frozen ones never get a grad). The LoRA variant freezes everything and swaps
  each Linear for `linear(x) + (alpha / rank) * (x @ A @ B)` by recursing over
  `named_children()` with `setattr`.
- `instruction_collate`: a book's instruction finetuning: a collate function pads each batch
  to its longest item, cuts inputs and targets from it and replaces all but the first padding
  target by -100 (`targets[torch.nonzero(mask).squeeze()[1:]] = ignore_index`), so
  cross_entropy's default ignore_index drops them; batches of three lengths.
- `rnn_family`: a tutorial collection's RNN, GRU, LSTM and bidirectional LSTM classifiers of
  image rows: `h0 = zeros(num_layers, x.size(0), hidden).to(device)`, every step's output
  flattened (`out.reshape(out.shape[0], -1)`) or the last one taken (`out[:, -1, :]`), Adam.
- `einsum_transformer`: a transformer written from scratch: heads split by reshape, the
  per-head Linear applied to (N, len, heads, head_dim), scores by
  `einsum("nqhd,nkhd->nhqk", [q, k])`, `masked_fill(mask == 0, float("-1e20"))` with a padding
  mask `(src != pad).unsqueeze(1).unsqueeze(2)` and `tril(ones).expand(N, 1, T, T)`,
  ModuleList layers, CrossEntropyLoss(ignore_index=0), clip_grad_norm_.
- `attention_seq2seq`: an LSTM encoder-decoder with additive attention: a bidirectional
  encoder whose final states are joined by `cat((h[0:1], h[1:2]), dim=2)` and a Linear,
  `hidden.repeat(seq_len, 1, 1)`, energies through nn.Softmax(dim=0),
  `einsum("snk,snl->knl", attention, states)`, outputs written into a zeros tensor
  (`outputs[t] = output`), the next input alternating between the target and the argmax.
"""
from __future__ import annotations

import io

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


# -- a small GPT, written out as the book's chapters do ------------------------------------
def _gpt_classes(T):
    nn = T.nn

    class MultiHeadAttention(nn.Module):
        def __init__(self, d, context, heads, qkv_bias):
            super().__init__()
            self.heads, self.head_dim, self.d = heads, d // heads, d
            self.W_query = nn.Linear(d, d, bias=qkv_bias)
            self.W_key = nn.Linear(d, d, bias=qkv_bias)
            self.W_value = nn.Linear(d, d, bias=qkv_bias)
            self.out_proj = nn.Linear(d, d)
            self.register_buffer("mask", T.triu(T.ones(context, context), diagonal=1))

        def forward(self, x):
            b, n, _ = x.shape
            q, k, v = (f(x).view(b, n, self.heads, self.head_dim).transpose(1, 2)
                       for f in (self.W_query, self.W_key, self.W_value))
            scores = q @ k.transpose(2, 3)
            scores.masked_fill_(self.mask.bool()[:n, :n], -T.inf)
            weights = T.softmax(scores / k.shape[-1] ** 0.5, dim=-1)
            return self.out_proj((weights @ v).transpose(1, 2).reshape(b, n, self.d))

    class LayerNorm(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.scale = nn.Parameter(T.ones(d))
            self.shift = nn.Parameter(T.zeros(d))

        def forward(self, x):
            mean = x.mean(dim=-1, keepdim=True)
            var = x.var(dim=-1, keepdim=True, unbiased=False)
            return self.scale * (x - mean) / T.sqrt(var + 1e-5) + self.shift

    class Block(nn.Module):
        def __init__(self, d, context, heads, qkv_bias):
            super().__init__()
            self.att = MultiHeadAttention(d, context, heads, qkv_bias)
            self.ff = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"),
                                    nn.Linear(4 * d, d))
            self.norm1, self.norm2 = LayerNorm(d), LayerNorm(d)

        def forward(self, x):
            x = x + self.att(self.norm1(x))
            return x + self.ff(self.norm2(x))

    class GPTModel(nn.Module):
        def __init__(self, vocab, context, d=16, heads=2, layers=1, qkv_bias=False):
            super().__init__()
            self.tok_emb = nn.Embedding(vocab, d)
            self.pos_emb = nn.Embedding(context, d)
            self.trf_blocks = nn.Sequential(*[Block(d, context, heads, qkv_bias)
                                              for _ in range(layers)])
            self.final_norm = LayerNorm(d)
            self.out_head = nn.Linear(d, vocab, bias=False)

        def forward(self, idx):
            n = idx.shape[1]
            x = self.tok_emb(idx) + self.pos_emb(T.arange(n, device=idx.device))
            return self.out_head(self.final_norm(self.trf_blocks(x)))
    return GPTModel


def eval_counter_gpt(T, wrap=_identity, steps=STEPS):
    vocab, block, batch, eval_interval = 11, 6, 3, 100
    model = _gpt_classes(T)(vocab, block)
    model.to(T.float64)
    _set_weights(T, model, seed=21)
    opt = T.optim.AdamW(model.parameters(), lr=1e-2)
    data = T.tensor(np.random.RandomState(22).randint(0, vocab, 90))
    starts = np.random.RandomState(23).randint(0, len(data) - block, size=(steps, batch))
    held_out = T.tensor(np.random.RandomState(24).randint(0, vocab, (2, block + 1)))
    log = io.StringIO()

    @T.no_grad()
    def estimate_loss():
        model.eval()
        logits = model(held_out[:, :-1])
        loss = T.nn.functional.cross_entropy(logits.flatten(0, 1), held_out[:, 1:].flatten())
        model.train()
        return loss.item()

    @wrap
    def step(ix):
        if it % eval_interval == 0 or it == steps - 1:
            print(f"step {it}: held-out loss {estimate_loss():.4f}", file=log)
        x = T.stack([data[i:i + block] for i in ix])
        y = T.stack([data[i + 1:i + block + 1] for i in ix])
        logits = model(x)
        loss = T.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    losses = []
    for it in range(steps):
        losses.append(step(T.tensor(starts[it])).item())
    return losses


def _pretrained(T, model, seed):
    """The book's load_weights_into_gpt, over a NumPy dict shaped like GPT-2's checkpoint:
    each parameter replaced by `nn.Parameter(T.tensor(array))`."""
    rng = np.random.RandomState(seed)
    d = model.tok_emb.weight.shape[1]

    def r(*shape):
        return rng.standard_normal(shape) * 0.2

    def assign(left, right):
        assert tuple(left.shape) == right.shape
        return T.nn.Parameter(T.tensor(right))
    model.tok_emb.weight = assign(model.tok_emb.weight, r(*model.tok_emb.weight.shape))
    model.pos_emb.weight = assign(model.pos_emb.weight, r(*model.pos_emb.weight.shape))
    for blk in model.trf_blocks:
        qkv_w, qkv_b = r(d, 3 * d), r(3 * d)
        for lin, w, b in zip((blk.att.W_query, blk.att.W_key, blk.att.W_value),
                             np.split(qkv_w, 3, axis=-1), np.split(qkv_b, 3, axis=-1)):
            lin.weight, lin.bias = assign(lin.weight, w.T), assign(lin.bias, b)
        for lin in (blk.att.out_proj, blk.ff[0], blk.ff[2]):
            lin.weight = assign(lin.weight, r(*lin.weight.shape))
            lin.bias = assign(lin.bias, r(*lin.bias.shape))
        for norm in (blk.norm1, blk.norm2):
            norm.scale, norm.shift = assign(norm.scale, 1 + r(d)), assign(norm.shift, r(d))
    model.final_norm.scale = assign(model.final_norm.scale, 1 + r(d))
    model.final_norm.shift = assign(model.final_norm.shift, r(d))


def _lora_classes(T):
    nn = T.nn

    class LoRALayer(nn.Module):
        def __init__(self, in_dim, out_dim, rank, alpha):
            super().__init__()
            self.A = nn.Parameter(T.zeros(in_dim, rank, dtype=T.float64))
            self.B = nn.Parameter(T.zeros(rank, out_dim, dtype=T.float64))
            self.alpha, self.rank = alpha, rank

        def forward(self, x):
            return (self.alpha / self.rank) * (x @ self.A @ self.B)

    class LinearWithLoRA(nn.Module):
        def __init__(self, linear, rank, alpha):
            super().__init__()
            self.linear = linear
            self.lora = LoRALayer(linear.in_features, linear.out_features, rank, alpha)

        def forward(self, x):
            return self.linear(x) + self.lora(x)

    def replace_linear_with_lora(model, rank, alpha):
        for name, module in model.named_children():
            if isinstance(module, nn.Linear):
                setattr(model, name, LinearWithLoRA(module, rank, alpha))
            else:
                replace_linear_with_lora(module, rank, alpha)
    return replace_linear_with_lora


def _classifier(T, wrap, steps, lora):
    vocab, context, batch, length = 13, 8, 4, 6
    model = _gpt_classes(T)(vocab, context, qkv_bias=True)
    _pretrained(T, model, seed=31)
    model.eval()
    for param in model.parameters():
        param.requires_grad = False
    model.out_head = T.nn.Linear(16, 2)
    model.to(T.float64)
    if lora:
        _lora_classes(T)(model, rank=2, alpha=4)
        rng = np.random.RandomState(32)
        with T.no_grad():
            for name, p in model.named_parameters():
                if name.endswith(".A"):
                    p.copy_(T.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape))))
    else:
        for param in model.trf_blocks[-1].parameters():
            param.requires_grad = True
        for param in model.final_norm.parameters():
            param.requires_grad = True
    with T.no_grad():
        rng = np.random.RandomState(33)
        head = model.out_head.linear if lora else model.out_head
        head.weight.copy_(T.from_numpy(rng.standard_normal((2, 16)) * 0.2))
        head.bias.zero_()
    opt = T.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.1)
    rng = np.random.RandomState(34)
    texts = rng.randint(0, vocab, (steps, batch, length))
    labels = rng.randint(0, 2, (steps, batch))

    @wrap
    def step(input_batch, target_batch):
        opt.zero_grad()
        logits = model(input_batch)[:, -1, :]
        loss = T.nn.functional.cross_entropy(logits, target_batch)
        loss.backward()
        opt.step()
        return loss

    model.train()
    return [step(T.tensor(x), T.tensor(y)).item() for x, y in zip(texts, labels)]


def frozen_head_classifier(T, wrap=_identity, steps=STEPS):
    return _classifier(T, wrap, steps, lora=False)


def lora_classifier(T, wrap=_identity, steps=STEPS):
    return _classifier(T, wrap, steps, lora=True)


def instruction_collate(T, wrap=_identity, steps=STEPS):
    vocab, pad, ignore_index = 12, 11, -100
    model = _gpt_classes(T)(vocab, 16)
    model.to(T.float64)
    _set_weights(T, model, seed=41)
    opt = T.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.1)
    rng = np.random.RandomState(42)
    items = [list(rng.randint(0, pad, rng.randint(3, 7))) for _ in range(steps * 2)]

    def collate(batch):
        longest = max(len(item) + 1 for item in batch)
        inputs_lst, targets_lst = [], []
        for item in batch:
            new_item = item.copy() + [pad]
            padded = new_item + [pad] * (longest - len(new_item))
            inputs, targets = T.tensor(padded[:-1]), T.tensor(padded[1:])
            mask = targets == pad
            indices = T.nonzero(mask).squeeze()
            if indices.numel() > 1:
                targets[indices[1:]] = ignore_index
            inputs_lst.append(inputs)
            targets_lst.append(targets)
        return T.stack(inputs_lst), T.stack(targets_lst)

    @wrap
    def step(input_batch, target_batch):
        logits = model(input_batch)
        loss = T.nn.functional.cross_entropy(logits.flatten(0, 1), target_batch.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return [step(*collate(items[2 * i:2 * i + 2])).item() for i in range(steps)]


def _rnn_classes(T):
    nn = T.nn

    class RowClassifier(nn.Module):
        def __init__(self, cell, rows, width, hidden, layers, classes, bidirectional=False):
            super().__init__()
            self.hidden, self.layers = hidden, layers
            self.dirs = 2 if bidirectional else 1
            self.cell = cell
            self.rnn = getattr(nn, cell)(width, hidden, layers, batch_first=True,
                                         bidirectional=bidirectional)
            # unidirectional: every row's output; bidirectional: the last row's
            self.fc = nn.Linear(hidden * rows if not bidirectional else hidden * 2, classes)

        def forward(self, x):
            h0 = T.zeros(self.layers * self.dirs, x.size(0), self.hidden, dtype=x.dtype).to(x.device)
            if self.cell == "LSTM":
                c0 = T.zeros(self.layers * self.dirs, x.size(0), self.hidden, dtype=x.dtype).to(x.device)
                out, _ = self.rnn(x, (h0, c0))
            else:
                out, _ = self.rnn(x, h0)
            if self.dirs == 2:
                return self.fc(out[:, -1, :])
            return self.fc(out.reshape(out.shape[0], -1))
    return RowClassifier


def rnn_family(T, wrap=_identity, steps=STEPS):
    RowClassifier = _rnn_classes(T)
    rng = np.random.RandomState(51)
    images = rng.uniform(0, 1, (steps, 4, 1, 5, 5))
    labels = rng.randint(0, 3, (steps, 4))
    losses = []
    for k, (cell, bidirectional) in enumerate((("RNN", False), ("GRU", False), ("LSTM", False),
                                              ("LSTM", True))):
        model = RowClassifier(cell, 5, 5, 6, 2, 3, bidirectional)
        model.to(T.float64)
        _set_weights(T, model, seed=52 + k, scale=0.3)
        criterion = T.nn.CrossEntropyLoss()
        optimizer = T.optim.Adam(model.parameters(), lr=5e-3)

        @wrap
        def step(data, targets):
            scores = model(data.squeeze(1))
            loss = criterion(scores, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss
        losses += [step(T.tensor(x), T.tensor(y)).item() for x, y in zip(images, labels)]
    return losses


PROGRAMS = {"eval_counter_gpt": eval_counter_gpt,
            "frozen_head_classifier": frozen_head_classifier,
            "lora_classifier": lora_classifier,
            "instruction_collate": instruction_collate,
            "rnn_family": rnn_family}
