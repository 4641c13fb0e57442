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
- `cnn_zoo`: a collection's architectures written out by hand, each trained a few steps:
  LeNet (AvgPool2d, a 5x5 conv down to 1x1), a VGG built from a config list ("M" for
  MaxPool2d, Conv2d+BatchNorm2d+ReLU otherwise, Dropout in the head), GoogLeNet's inception
  block (four branches joined by `cat(..., 1)`, a padded MaxPool2d branch) with an auxiliary
  classifier returned in training only (`if self.aux_logits and self.training`), a ResNet
  bottleneck (`identity = x.clone()`, `x += identity`, a strided 1x1 downsample,
  AdaptiveAvgPool2d((1, 1))), EfficientNet's inverted residual (a depthwise conv with
  `groups=hidden`, SiLU, squeeze-excitation through AdaptiveAvgPool2d(1), 1x1 convs and
  Sigmoid, stochastic depth `div(x, p) * (rand(n, 1, 1, 1) < p)`); eval() then one
  no_grad forward.
- `amp_plateau`: a CNN trained with `torch.cuda.amp.GradScaler()` and
  `torch.cuda.amp.autocast()` on a machine without CUDA (both disabled, with PyTorch's
  warnings), per-step losses kept with `losses.append(loss.item())`, ReduceLROnPlateau
  stepped on each epoch's mean loss.
"""
from __future__ import annotations

import io

import numpy as np

from .heldout_programs import _identity, _set_weights

STEPS = 6


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

    class Block(nn.Module):
        def __init__(self, d, context, heads, qkv_bias):
            super().__init__()
            self.att = MultiHeadAttention(d, context, heads, qkv_bias)
            self.ff = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"),
                                    nn.Linear(4 * d, d))
            self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)

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
            self.final_norm = nn.LayerNorm(d)
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
            norm.weight, norm.bias = assign(norm.weight, 1 + r(d)), assign(norm.bias, r(d))
    model.final_norm.weight = assign(model.final_norm.weight, 1 + r(d))
    model.final_norm.bias = assign(model.final_norm.bias, r(d))


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


def _transformer_classes(T):
    nn = T.nn

    class SelfAttention(nn.Module):
        def __init__(self, embed_size, heads):
            super().__init__()
            self.embed_size, self.heads = embed_size, heads
            self.head_dim = embed_size // heads
            self.values = nn.Linear(self.head_dim, self.head_dim, bias=False)
            self.keys = nn.Linear(self.head_dim, self.head_dim, bias=False)
            self.queries = nn.Linear(self.head_dim, self.head_dim, bias=False)
            self.fc_out = nn.Linear(heads * self.head_dim, embed_size)

        def forward(self, values, keys, query, mask):
            n = query.shape[0]
            split = [t.reshape(n, t.shape[1], self.heads, self.head_dim)
                     for t in (values, keys, query)]
            values, keys, queries = (f(t) for f, t in
                                     zip((self.values, self.keys, self.queries), split))
            energy = T.einsum("nqhd,nkhd->nhqk", [queries, keys])
            if mask is not None:
                energy = energy.masked_fill(mask == 0, float("-1e20"))
            attention = T.softmax(energy / (self.embed_size ** (1 / 2)), dim=3)
            out = T.einsum("nhql,nlhd->nqhd", [attention, values])
            return self.fc_out(out.reshape(n, query.shape[1], self.heads * self.head_dim))

    class Block(nn.Module):
        def __init__(self, embed_size, heads):
            super().__init__()
            self.attention = SelfAttention(embed_size, heads)
            self.norm1, self.norm2 = nn.LayerNorm(embed_size), nn.LayerNorm(embed_size)
            self.feed_forward = nn.Sequential(nn.Linear(embed_size, 2 * embed_size), nn.ReLU(),
                                              nn.Linear(2 * embed_size, embed_size))

        def forward(self, value, key, query, mask):
            x = self.norm1(self.attention(value, key, query, mask) + query)
            return self.norm2(self.feed_forward(x) + x)

    class Transformer(nn.Module):
        def __init__(self, vocab, pad, embed_size=8, heads=2, max_length=12):
            super().__init__()
            self.pad = pad
            self.src_emb, self.trg_emb = nn.Embedding(vocab, embed_size), nn.Embedding(vocab, embed_size)
            self.position = nn.Embedding(max_length, embed_size)
            self.encoder = nn.ModuleList([Block(embed_size, heads)])
            self.self_att = SelfAttention(embed_size, heads)
            self.norm = nn.LayerNorm(embed_size)
            self.decoder = nn.ModuleList([Block(embed_size, heads)])
            self.fc_out = nn.Linear(embed_size, vocab)

        def embed(self, emb, x):
            n, length = x.shape
            positions = T.arange(0, length).expand(n, length)
            return emb(x) + self.position(positions)

        def forward(self, src, trg):
            src_mask = (src != self.pad).unsqueeze(1).unsqueeze(2)
            n, trg_len = trg.shape
            trg_mask = T.tril(T.ones((trg_len, trg_len))).expand(n, 1, trg_len, trg_len)
            enc = self.embed(self.src_emb, src)
            for layer in self.encoder:
                enc = layer(enc, enc, enc, src_mask)
            x = self.embed(self.trg_emb, trg)
            for layer in self.decoder:
                query = self.norm(self.self_att(x, x, x, trg_mask) + x)
                x = layer(enc, enc, query, src_mask)
            return self.fc_out(x)
    return Transformer


def einsum_transformer(T, wrap=_identity, steps=STEPS):
    model = _transformer_classes(T)(10, 0)
    model.to(T.float64)
    _set_weights(T, model, seed=61, scale=0.3)
    src = T.tensor([[1, 5, 6, 4, 3, 9, 5, 2, 0], [1, 8, 7, 3, 4, 5, 6, 7, 2]])
    trg = T.tensor([[1, 7, 4, 3, 5, 9, 2, 0], [1, 5, 6, 2, 4, 7, 6, 2]])
    optimizer = T.optim.Adam(model.parameters(), lr=1e-2)
    criterion = T.nn.CrossEntropyLoss(ignore_index=0)

    @wrap
    def step(src, trg):
        out = model(src, trg[:, :-1])
        loss = criterion(out.reshape(-1, out.shape[2]), trg[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        T.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1)
        optimizer.step()
        return loss
    return [step(src, trg).item() for _ in range(steps)]


def _seq2seq_classes(T):
    nn = T.nn

    class Encoder(nn.Module):
        def __init__(self, vocab, emb, hidden):
            super().__init__()
            self.embedding = nn.Embedding(vocab, emb)
            self.rnn = nn.LSTM(emb, hidden, 1, bidirectional=True)
            self.fc_hidden = nn.Linear(hidden * 2, hidden)
            self.fc_cell = nn.Linear(hidden * 2, hidden)

        def forward(self, x):
            states, (hidden, cell) = self.rnn(self.embedding(x))
            hidden = self.fc_hidden(T.cat((hidden[0:1], hidden[1:2]), dim=2))
            cell = self.fc_cell(T.cat((cell[0:1], cell[1:2]), dim=2))
            return states, hidden, cell

    class Decoder(nn.Module):
        def __init__(self, vocab, emb, hidden):
            super().__init__()
            self.embedding = nn.Embedding(vocab, emb)
            self.rnn = nn.LSTM(hidden * 2 + emb, hidden, 1)
            self.energy = nn.Linear(hidden * 3, 1)
            self.fc = nn.Linear(hidden, vocab)
            self.softmax, self.relu = nn.Softmax(dim=0), nn.ReLU()

        def forward(self, x, states, hidden, cell):
            embedding = self.embedding(x.unsqueeze(0))
            h_reshaped = hidden.repeat(states.shape[0], 1, 1)
            energy = self.relu(self.energy(T.cat((h_reshaped, states), dim=2)))
            attention = self.softmax(energy)
            context = T.einsum("snk,snl->knl", attention, states)
            outputs, (hidden, cell) = self.rnn(T.cat((context, embedding), dim=2),
                                               (hidden, cell))
            return self.fc(outputs).squeeze(0), hidden, cell

    class Seq2Seq(nn.Module):
        def __init__(self, vocab, emb=6, hidden=8):
            super().__init__()
            self.vocab = vocab
            self.encoder, self.decoder = Encoder(vocab, emb, hidden), Decoder(vocab, emb, hidden)

        def forward(self, source, target):
            outputs = T.zeros(target.shape[0], source.shape[1], self.vocab, dtype=T.float64)
            states, hidden, cell = self.encoder(source)
            x = target[0]
            for t in range(1, target.shape[0]):
                output, hidden, cell = self.decoder(x, states, hidden, cell)
                outputs[t] = output
                x = target[t] if t % 2 else output.argmax(1)
            return outputs
    return Seq2Seq


def attention_seq2seq(T, wrap=_identity, steps=STEPS):
    model = _seq2seq_classes(T)(9)
    model.to(T.float64)
    _set_weights(T, model, seed=71, scale=0.3)
    optimizer = T.optim.Adam(model.parameters(), lr=1e-2)
    criterion = T.nn.CrossEntropyLoss(ignore_index=1)
    rng = np.random.RandomState(72)
    batches = [(rng.randint(2, 9, (5, 3)), rng.randint(1, 9, (6, 3))) for _ in range(steps)]

    @wrap
    def step(inp_data, target):
        output = model(inp_data, target)
        output = output[1:].reshape(-1, output.shape[2])
        loss = criterion(output, target[1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        T.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1)
        optimizer.step()
        return loss
    return [step(T.tensor(src), T.tensor(trg)).item() for src, trg in batches]


def _cnn_classes(T):
    nn = T.nn

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.relu, self.pool = nn.ReLU(), nn.AvgPool2d(kernel_size=(2, 2), stride=(2, 2))
            self.conv1 = nn.Conv2d(1, 3, kernel_size=(5, 5))
            self.conv2 = nn.Conv2d(3, 4, kernel_size=(5, 5))
            self.linear = nn.Linear(4, 3)

        def forward(self, x):      # 16x16 -> 12 -> 6 -> 2 -> 1
            x = self.pool(self.relu(self.conv1(x)))
            x = self.pool(self.relu(self.conv2(x)))
            return self.linear(x.reshape(x.shape[0], -1))

    class VGG(nn.Module):
        def __init__(self, config=(3, "M", 4, 4, "M")):
            super().__init__()
            layers, channels = [], 1
            for x in config:
                if type(x) == int:
                    layers += [nn.Conv2d(channels, x, kernel_size=(3, 3), padding=(1, 1)),
                               nn.BatchNorm2d(x), nn.ReLU()]
                    channels = x
                elif x == "M":
                    layers += [nn.MaxPool2d(kernel_size=(2, 2), stride=(2, 2))]
            self.conv_layers = nn.Sequential(*layers)
            self.fcs = nn.Sequential(nn.Linear(4 * 4 * 4, 8), nn.ReLU(), nn.Dropout(p=0.5),
                                     nn.Linear(8, 3))

        def forward(self, x):
            x = self.conv_layers(x)
            return self.fcs(x.reshape(x.shape[0], -1))

    def conv_block(cin, cout, **kwargs):
        return nn.Sequential(nn.Conv2d(cin, cout, **kwargs), nn.BatchNorm2d(cout), nn.ReLU())

    class Inception(nn.Module):
        def __init__(self, aux_logits=True):
            super().__init__()
            self.aux_logits = aux_logits
            self.stem = conv_block(1, 4, kernel_size=3, stride=2, padding=1)
            self.branch1 = conv_block(4, 2, kernel_size=(1, 1))
            self.branch2 = nn.Sequential(conv_block(4, 2, kernel_size=(1, 1)),
                                         conv_block(2, 3, kernel_size=(3, 3), padding=(1, 1)))
            self.branch3 = nn.Sequential(conv_block(4, 1, kernel_size=(1, 1)),
                                         conv_block(1, 2, kernel_size=(5, 5), padding=(2, 2)))
            self.branch4 = nn.Sequential(
                nn.MaxPool2d(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)),
                conv_block(4, 2, kernel_size=(1, 1)))
            self.aux = nn.Sequential(nn.AvgPool2d(kernel_size=5, stride=3), nn.Flatten(),
                                     nn.Linear(4 * 2 * 2, 3))
            self.avgpool = nn.AvgPool2d(kernel_size=8, stride=1)
            self.dropout = nn.Dropout(p=0.4)
            self.fc = nn.Linear(9, 3)

        def forward(self, x):
            x = self.stem(x)
            if self.aux_logits and self.training:
                aux = self.aux(x)
            x = T.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)
            x = self.avgpool(x)
            x = self.fc(self.dropout(x.reshape(x.shape[0], -1)))
            if self.aux_logits and self.training:
                return aux, x
            return x

    class Bottleneck(nn.Module):
        def __init__(self, cin, mid, downsample=None, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, mid, kernel_size=1, bias=False)
            self.bn1 = nn.BatchNorm2d(mid)
            self.conv2 = nn.Conv2d(mid, mid, kernel_size=3, stride=stride, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(mid)
            self.conv3 = nn.Conv2d(mid, mid * 4, kernel_size=1, bias=False)
            self.bn3 = nn.BatchNorm2d(mid * 4)
            self.relu = nn.ReLU()
            self.identity_downsample = downsample

        def forward(self, x):
            identity = x.clone()
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.relu(self.bn2(self.conv2(x)))
            x = self.bn3(self.conv3(x))
            if self.identity_downsample is not None:
                identity = self.identity_downsample(identity)
            x += identity
            return self.relu(x)

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, kernel_size=3, stride=1, padding=1, bias=False)
            down = nn.Sequential(nn.Conv2d(4, 8, kernel_size=1, stride=2, bias=False),
                                 nn.BatchNorm2d(8))
            self.layer = nn.Sequential(Bottleneck(4, 2, down, stride=2), Bottleneck(8, 2))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            x = self.avgpool(self.layer(self.conv1(x)))
            return self.fc(x.reshape(x.shape[0], -1))

    class InvertedResidual(nn.Module):
        def __init__(self, channels, expand_ratio=2, survival_prob=0.8):
            super().__init__()
            hidden = channels * expand_ratio
            self.survival_prob = survival_prob
            self.expand_conv = nn.Sequential(nn.Conv2d(channels, hidden, 3, 1, 1, bias=False),
                                             nn.BatchNorm2d(hidden), nn.SiLU())
            self.conv = nn.Sequential(
                nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden, bias=False),
                nn.BatchNorm2d(hidden), nn.SiLU(),
                SqueezeExcitation(hidden, channels // 2),
                nn.Conv2d(hidden, channels, 1, bias=False), nn.BatchNorm2d(channels))

        def stochastic_depth(self, x):
            if not self.training:
                return x
            binary_tensor = T.rand(x.shape[0], 1, 1, 1, device=x.device) < self.survival_prob
            return T.div(x, self.survival_prob) * binary_tensor

        def forward(self, inputs):
            return self.stochastic_depth(self.conv(self.expand_conv(inputs))) + inputs

    class SqueezeExcitation(nn.Module):
        def __init__(self, channels, reduced):
            super().__init__()
            self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, reduced, 1),
                                    nn.SiLU(), nn.Conv2d(reduced, channels, 1), nn.Sigmoid())

        def forward(self, x):
            return x * self.se(x)

    class EfficientNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), InvertedResidual(4),
                                          InvertedResidual(4))
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(4, 3))

        def forward(self, x):
            x = self.pool(self.features(x))
            return self.classifier(x.view(x.shape[0], -1))
    return (LeNet, VGG, Inception, ResNet, EfficientNet)


def cnn_zoo(T, wrap=_identity, steps=3):
    T.manual_seed(81)
    rng = np.random.RandomState(82)
    images = rng.standard_normal((steps + 1, 4, 1, 16, 16))
    labels = rng.randint(0, 3, (steps, 4))
    losses = []
    for k, cls in enumerate(_cnn_classes(T)):
        model = cls()
        model.to(T.float64)
        _set_weights(T, model, seed=83 + k, scale=0.3)
        criterion = T.nn.CrossEntropyLoss()
        optimizer = T.optim.Adam(model.parameters(), lr=1e-2)
        model.train()

        @wrap
        def step(data, targets):
            if getattr(model, "aux_logits", False):
                aux, scores = model(data)
                loss = criterion(scores, targets) + 0.3 * criterion(aux, targets)
            else:
                loss = criterion(model(data), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss
        losses += [step(T.tensor(x), T.tensor(y)).item() for x, y in zip(images, labels)]
        model.eval()
        with T.no_grad():
            losses.append(criterion(model(T.tensor(images[-1])), T.tensor(labels[0])).item())
    return losses


def amp_plateau(T, wrap=_identity, steps=STEPS):
    import warnings
    nn = T.nn
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
                          nn.Flatten(), nn.Linear(3 * 3 * 3, 4))
    model.to(T.float64)
    _set_weights(T, model, seed=91, scale=0.3)
    criterion = nn.CrossEntropyLoss()
    optimizer = T.optim.Adam(model.parameters(), lr=0.1)
    scheduler = T.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # (no CUDA: the scaler and autocast are disabled)
        scaler = T.cuda.amp.GradScaler()
    rng = np.random.RandomState(92)
    images, labels = rng.standard_normal((steps, 3, 1, 6, 6)), rng.randint(0, 4, (steps, 3))

    @wrap
    def step(data, targets):
        with T.cuda.amp.autocast():
            loss = criterion(model(data), targets)
        losses.append(loss.item())
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss

    out = []
    for epoch in range(2):
        losses = []
        for x, y in zip(images, labels):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(step(T.tensor(x), T.tensor(y)).item())
        scheduler.step(sum(losses) / len(losses))
    return out


PROGRAMS = {"eval_counter_gpt": eval_counter_gpt,
            "frozen_head_classifier": frozen_head_classifier,
            "lora_classifier": lora_classifier,
            "instruction_collate": instruction_collate,
            "rnn_family": rnn_family,
            "einsum_transformer": einsum_transformer,
            "attention_seq2seq": attention_seq2seq,
            "cnn_zoo": cnn_zoo,
            "amp_plateau": amp_plateau}
