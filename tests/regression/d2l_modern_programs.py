"""Whole programs in the style of d2l's later chapters (modern CNNs, recurrent networks from
scratch and concise, encoder-decoders with masked losses, attention and transformers, optimizers
written by hand), run on a torch-shaped module `T` (stepjit, or PyTorch by
tests/fixtures/record_d2l_modern.py).

Each `program(T, wrap=identity)` returns its loss at every step as floats. Weights and data come
from NumPy (seeded), so PyTorch and stepjit start from the same numbers and PyTorch's recorded
losses are a reference for stepjit's (float64, no dropout). `wrap` is applied to the training
step: `stepjit.compile` for a compiled run.

What each reaches for, as the chapters do:
- `gru_lstm_scratch`: GRU and LSTM cells from parameters made with `nn.Parameter(randn * sigma)`,
  a Python loop over time steps stacking outputs, one-hot inputs (`F.one_hot(X.T, vocab)
  .type(float32)`), d2l's gradient clipping (`norm = sqrt(sum(sum(p.grad ** 2)))`, `if norm >
  clip: p.grad[:] *= clip / norm`, a data-dependent branch), SGD by hand; the step sets its
  progress board's label (`board.xlabel = 'epoch'`) as d2l's Module.plot does.
- `concise_rnns`: nn.GRU (two layers), nn.LSTM (bidirectional) and nn.RNN with an output
  Linear over `rnn(X, state)[0]`, nn.utils.clip_grad_norm_, SGD.
- `seq2seq_attention`: a GRU encoder and a Bahdanau-attention GRU decoder over an Embedding,
  additive attention scores masked by valid lengths (`X[~mask] = -1e6` from an arange
  comparison), the decoder's Python loop over target steps, masked cross entropy
  (`reduction='none'` times a pad mask, summed over the mask's sum), Adam.
- `transformer`: multi-head scaled dot-product attention with d2l's masked_softmax
  (`repeat_interleave` of valid lengths), sinusoidal positional encoding kept as a tensor
  attribute, AddNorm (LayerNorm), position-wise FFN, an encoder of two blocks over
  `embedding * sqrt(d)`, Adam.
- `modern_cnns`: batch norm written out (`is_grad_enabled()` choosing training statistics,
  the moving averages rebound as module attributes, float32 tensors that the first step
  rebinds to float64 ones), NiN blocks of 1x1 convolutions, an
  Inception block concatenating four branches, residual blocks with nn.BatchNorm2d and a 1x1
  shortcut, a dense block and transition (cat, AvgPool2d), AdaptiveAvgPool2d, Flatten, SGD
  with momentum and weight decay.
- `hand_optimizers`: linear regression trained by momentum, AdaGrad, RMSProp, AdaDelta and Adam
  written by hand as d2l's chapter 12 writes them (states made once, updated in place with
  `v[:] = ...` under no_grad, Adam's `hyperparams['t'] += 1` counter and bias correction,
  `p.grad.data.zero_()`), `n += X.shape[0]` counting the examples seen.
"""
from __future__ import annotations

import math

import numpy as np

STEPS = 5


def _identity(fn):
    return fn


def _set_weights(T, model, seed, scale=0.3):
    """Every parameter (named_parameters order) from one NumPy stream, scaled by fan-in."""
    rng = np.random.RandomState(seed)
    with T.no_grad():
        for _, p in model.named_parameters():
            fan = int(np.prod(tuple(p.shape)[1:])) if p.dim() > 1 else 4
            p.copy_(T.from_numpy(rng.uniform(-1, 1, tuple(p.shape)) * scale * math.sqrt(3 / fan)))


class _Board:
    xlabel = None


# ------------------------------------------------------------------ recurrent, from scratch
def gru_lstm_scratch(T, wrap=_identity, steps=STEPS):
    nn, F = T.nn, T.nn.functional
    vocab, hidden, batch, num_steps, sigma = 7, 6, 3, 5, 0.1
    rng = np.random.RandomState(1)

    def param(*shape):
        return nn.Parameter(T.from_numpy(rng.standard_normal(shape) * sigma))

    def triple():
        return param(vocab, hidden), param(hidden, hidden), nn.Parameter(T.zeros(hidden, dtype=T.float64))

    W_xz, W_hz, b_z = triple()
    W_xr, W_hr, b_r = triple()
    W_xh, W_hh, b_h = triple()
    gates = [triple() for _ in range(4)]
    W_hq, b_q = param(hidden, vocab), nn.Parameter(T.zeros(vocab, dtype=T.float64))
    W_hq2 = param(hidden, vocab)
    params = [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q, W_hq2,
              *[p for g in gates for p in g]]
    board = _Board()

    def gru(inputs, H):
        outputs = []
        for X in inputs:
            Z = T.sigmoid(T.matmul(X, W_xz) + T.matmul(H, W_hz) + b_z)
            R = T.sigmoid(T.matmul(X, W_xr) + T.matmul(H, W_hr) + b_r)
            H_tilde = T.tanh(T.matmul(X, W_xh) + T.matmul(R * H, W_hh) + b_h)
            H = Z * H + (1 - Z) * H_tilde
            outputs.append(H)
        return outputs, H

    def lstm(inputs, H_C):
        (W_xi, W_hi, b_i), (W_xf, W_hf, b_f), (W_xo, W_ho, b_o), (W_xc, W_hc, b_c) = gates
        H, C = H_C
        outputs = []
        for X in inputs:
            I = T.sigmoid(T.matmul(X, W_xi) + T.matmul(H, W_hi) + b_i)
            F_ = T.sigmoid(T.matmul(X, W_xf) + T.matmul(H, W_hf) + b_f)
            O = T.sigmoid(T.matmul(X, W_xo) + T.matmul(H, W_ho) + b_o)
            C_tilde = T.tanh(T.matmul(X, W_xc) + T.matmul(H, W_hc) + b_c)
            C = F_ * C + I * C_tilde
            H = O * T.tanh(C)
            outputs.append(H)
        return outputs, (H, C)

    def clip_gradients(grad_clip):
        norm = T.sqrt(sum(T.sum((p.grad ** 2)) for p in params))
        if norm > grad_clip:
            for p in params:
                p.grad[:] *= grad_clip / norm

    @wrap
    def step(X, Y):
        board.xlabel = "epoch"
        embs = F.one_hot(X.T, vocab).type(T.float64)
        zeros = T.zeros((X.shape[0], hidden), dtype=T.float64)
        rnn_out, _ = gru(embs, zeros)
        lstm_out, _ = lstm(embs, (zeros, zeros))
        outputs = [T.matmul(H, W_hq) + b_q + T.matmul(H2, W_hq2)
                   for H, H2 in zip(rnn_out, lstm_out)]
        Y_hat = T.stack(outputs, 1)
        loss = F.cross_entropy(Y_hat.reshape((-1, Y_hat.shape[-1])), Y.reshape((-1,)))
        for p in params:
            p.grad = None
        with T.no_grad():
            loss.backward()
            clip_gradients(1.0)
            for p in params:
                p -= 1.0 * p.grad
        return loss

    data = np.random.RandomState(2).randint(0, vocab, size=(steps, batch, num_steps + 1))
    return [step(T.tensor(d[:, :-1]), T.tensor(d[:, 1:])).item() for d in data]


# ------------------------------------------------------------------ recurrent, concise
def concise_rnns(T, wrap=_identity, steps=STEPS):
    nn, F = T.nn, T.nn.functional
    vocab, hidden, batch, num_steps = 7, 5, 3, 4

    class RNNLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(vocab, hidden, num_layers=2)
            self.lstm = nn.LSTM(vocab, hidden, bidirectional=True)
            self.rnn = nn.RNN(vocab, hidden)
            self.linear = nn.Linear(4 * hidden, vocab)

        def forward(self, X, state=None):
            embs = F.one_hot(X.T.long(), vocab).type(T.float64)
            g, _ = self.gru(embs, state)
            l, (h, c) = self.lstm(embs)
            r, _ = self.rnn(embs)
            out = T.cat([g, l, r], dim=2)
            return self.linear(out).swapaxes(0, 1)

    model = RNNLM().to(T.float64)
    _set_weights(T, model, seed=3)
    opt = T.optim.SGD(model.parameters(), lr=1.0)

    @wrap
    def step(X, Y):
        Y_hat = model(X)
        loss = F.cross_entropy(Y_hat.reshape(-1, vocab), Y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    data = np.random.RandomState(4).randint(0, vocab, size=(steps, batch, num_steps + 1))
    return [step(T.tensor(d[:, :-1]), T.tensor(d[:, 1:])).item() for d in data]


# ------------------------------------------------------------------ seq2seq with attention
def _masked_softmax(T, X, valid_lens):
    """d2l's masked_softmax: entries past each row's valid length get -1e6 before softmax."""
    def _sequence_mask(X, valid_len, value=0):
        maxlen = X.size(1)
        mask = T.arange((maxlen), dtype=T.float32, device=X.device)[None, :] < valid_len[:, None]
        X[~mask] = value
        return X

    if valid_lens is None:
        return T.nn.functional.softmax(X, dim=-1)
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = T.repeat_interleave(valid_lens, shape[1])
    else:
        valid_lens = valid_lens.reshape(-1)
    X = _sequence_mask(X.reshape(-1, shape[-1]), valid_lens, value=-1e6)
    return T.nn.functional.softmax(X.reshape(shape), dim=-1)


def seq2seq_attention(T, wrap=_identity, steps=STEPS):
    nn, F = T.nn, T.nn.functional
    src_vocab, tgt_vocab, embed, hidden, batch, num_steps, pad = 9, 8, 4, 6, 3, 5, 0

    class AdditiveAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.W_k = nn.Linear(hidden, hidden, bias=False)
            self.W_q = nn.Linear(hidden, hidden, bias=False)
            self.w_v = nn.Linear(hidden, 1, bias=False)

        def forward(self, queries, keys, values, valid_lens):
            queries, keys = self.W_q(queries), self.W_k(keys)
            features = queries.unsqueeze(2) + keys.unsqueeze(1)
            scores = self.w_v(T.tanh(features)).squeeze(-1)
            self.attention_weights = _masked_softmax(T, scores, valid_lens)
            return T.bmm(self.attention_weights, values)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(src_vocab, embed)
            self.rnn = nn.GRU(embed, hidden, num_layers=2)

        def forward(self, X, valid_lens):
            embs = self.embedding(X.t().type(T.int64))
            outputs, state = self.rnn(embs)
            return outputs, state

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = AdditiveAttention()
            self.embedding = nn.Embedding(tgt_vocab, embed)
            self.rnn = nn.GRU(embed + hidden, hidden, num_layers=2)
            self.dense = nn.Linear(hidden, tgt_vocab)

        def init_state(self, enc_outputs, enc_valid_lens):
            outputs, hidden_state = enc_outputs
            return (outputs.permute(1, 0, 2), hidden_state, enc_valid_lens)

        def forward(self, X, state):
            enc_outputs, hidden_state, enc_valid_lens = state
            X = self.embedding(X).permute(1, 0, 2)
            outputs = []
            for x in X:
                query = T.unsqueeze(hidden_state[-1], dim=1)
                context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
                x = T.cat((context, T.unsqueeze(x, dim=1)), dim=-1)
                out, hidden_state = self.rnn(x.permute(1, 0, 2), hidden_state)
                outputs.append(out)
            outputs = self.dense(T.cat(outputs, dim=0))
            return outputs.permute(1, 0, 2), [enc_outputs, hidden_state, enc_valid_lens]

    encoder, decoder = Encoder().to(T.float64), Decoder().to(T.float64)
    _set_weights(T, encoder, seed=5)
    _set_weights(T, decoder, seed=6)
    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = T.optim.Adam(params, lr=0.01)

    def loss_fn(Y_hat, Y):
        l = F.cross_entropy(Y_hat.reshape(-1, Y_hat.shape[-1]), Y.reshape(-1), reduction='none')
        mask = (Y.reshape(-1) != pad).type(T.float64)
        return (l * mask).sum() / mask.sum()

    @wrap
    def step(src, dec_input, src_valid_len, Y):
        enc_all_outputs = encoder(src, src_valid_len)
        dec_state = decoder.init_state(enc_all_outputs, src_valid_len)
        Y_hat = decoder(dec_input, dec_state)[0]
        loss = loss_fn(Y_hat, Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    rng = np.random.RandomState(7)
    losses = []
    for _ in range(steps):
        lens = rng.randint(2, num_steps + 1, size=batch)
        src = rng.randint(1, src_vocab, size=(batch, num_steps)) * (np.arange(num_steps) < lens[:, None])
        tgt = rng.randint(1, tgt_vocab, size=(batch, num_steps + 1))
        tgt[:, num_steps - 1:] *= rng.randint(0, 2, size=(batch, 2))
        losses.append(step(T.tensor(src), T.tensor(tgt[:, :-1]), T.tensor(lens),
                           T.tensor(tgt[:, 1:])).item())
    return losses


# ------------------------------------------------------------------ transformer encoder
def transformer(T, wrap=_identity, steps=STEPS):
    nn, F = T.nn, T.nn.functional
    vocab, d, heads, ffn, batch, num_steps, classes = 10, 8, 2, 12, 3, 6, 4

    class DotProductAttention(nn.Module):
        def forward(self, queries, keys, values, valid_lens=None):
            dd = queries.shape[-1]
            scores = T.bmm(queries, keys.transpose(1, 2)) / math.sqrt(dd)
            self.attention_weights = _masked_softmax(T, scores, valid_lens)
            return T.bmm(self.attention_weights, values)

    class MultiHeadAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.num_heads = heads
            self.attention = DotProductAttention()
            self.W_q, self.W_k = nn.LazyLinear(d, bias=False), nn.LazyLinear(d, bias=False)
            self.W_v, self.W_o = nn.LazyLinear(d, bias=False), nn.LazyLinear(d, bias=False)

        def transpose_qkv(self, X):
            X = X.reshape(X.shape[0], X.shape[1], self.num_heads, -1)
            X = X.permute(0, 2, 1, 3)
            return X.reshape(-1, X.shape[2], X.shape[3])

        def transpose_output(self, X):
            X = X.reshape(-1, self.num_heads, X.shape[1], X.shape[2])
            X = X.permute(0, 2, 1, 3)
            return X.reshape(X.shape[0], X.shape[1], -1)

        def forward(self, queries, keys, values, valid_lens):
            queries = self.transpose_qkv(self.W_q(queries))
            keys = self.transpose_qkv(self.W_k(keys))
            values = self.transpose_qkv(self.W_v(values))
            if valid_lens is not None:
                valid_lens = T.repeat_interleave(valid_lens, repeats=self.num_heads, dim=0)
            output = self.attention(queries, keys, values, valid_lens)
            return self.W_o(self.transpose_output(output))

    class PositionalEncoding(nn.Module):
        def __init__(self, max_len=50):
            super().__init__()
            self.P = T.zeros((1, max_len, d), dtype=T.float64)
            X = T.arange(max_len, dtype=T.float64).reshape(-1, 1) / T.pow(
                10000, T.arange(0, d, 2, dtype=T.float64) / d)
            self.P[:, :, 0::2] = T.sin(X)
            self.P[:, :, 1::2] = T.cos(X)

        def forward(self, X):
            return X + self.P[:, :X.shape[1], :].to(X.device)

    class AddNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = nn.LayerNorm(d)

        def forward(self, X, Y):
            return self.ln(Y + X)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = MultiHeadAttention()
            self.addnorm1, self.addnorm2 = AddNorm(), AddNorm()
            self.ffn = nn.Sequential(nn.LazyLinear(ffn), nn.ReLU(), nn.LazyLinear(d))

        def forward(self, X, valid_lens):
            Y = self.addnorm1(X, self.attention(X, X, X, valid_lens))
            return self.addnorm2(Y, self.ffn(Y))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, d)
            self.pos_encoding = PositionalEncoding()
            self.blks = nn.Sequential()
            for i in range(2):
                self.blks.add_module("block" + str(i), Block())
            self.head = nn.Linear(d, classes)

        def forward(self, X, valid_lens):
            X = self.pos_encoding(self.embedding(X) * math.sqrt(d))
            for blk in self.blks:
                X = blk(X, valid_lens)
            return self.head(X.mean(dim=1))

    model = Encoder().to(T.float64)
    rng = np.random.RandomState(8)
    xs = rng.randint(0, vocab, size=(steps, batch, num_steps))
    lens = rng.randint(2, num_steps + 1, size=(steps, batch))
    ys = rng.randint(0, classes, size=(steps, batch))
    with T.no_grad():
        model(T.tensor(xs[0]), T.tensor(lens[0]))     # materializes the lazy layers
    _set_weights(T, model, seed=9)
    opt = T.optim.Adam(model.parameters(), lr=0.01)

    @wrap
    def step(X, valid_lens, y):
        loss = F.cross_entropy(model(X, valid_lens), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return [step(T.tensor(x), T.tensor(v), T.tensor(y)).item() for x, v, y in zip(xs, lens, ys)]


# ------------------------------------------------------------------ modern CNNs
def _batch_norm(T, X, gamma, beta, moving_mean, moving_var, eps, momentum):
    if not T.is_grad_enabled():
        X_hat = (X - moving_mean) / T.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / T.sqrt(var + eps)
        moving_mean = (1.0 - momentum) * moving_mean + momentum * mean
        moving_var = (1.0 - momentum) * moving_var + momentum * var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


def _cnn_classes(T):
    nn, F = T.nn, T.nn.functional

    class BatchNorm(nn.Module):
        def __init__(self, num_features, num_dims):
            super().__init__()
            shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
            self.gamma = nn.Parameter(T.ones(shape))
            self.beta = nn.Parameter(T.zeros(shape))
            self.moving_mean = T.zeros(shape)     # (not buffers: .to() leaves them)
            self.moving_var = T.ones(shape)

        def forward(self, X):
            if self.moving_mean.device != X.device:
                self.moving_mean = self.moving_mean.to(X.device)
                self.moving_var = self.moving_var.to(X.device)
            Y, self.moving_mean, self.moving_var = _batch_norm(
                T, X, self.gamma, self.beta, self.moving_mean, self.moving_var,
                eps=1e-5, momentum=0.1)
            return Y

    def nin_block(out_channels, kernel_size, strides, padding):
        return nn.Sequential(
            nn.LazyConv2d(out_channels, kernel_size, strides, padding), nn.ReLU(),
            nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU(),
            nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU())

    class Inception(nn.Module):
        def __init__(self, c1, c2, c3, c4):
            super().__init__()
            self.b1_1 = nn.LazyConv2d(c1, kernel_size=1)
            self.b2_1 = nn.LazyConv2d(c2[0], kernel_size=1)
            self.b2_2 = nn.LazyConv2d(c2[1], kernel_size=3, padding=1)
            self.b3_1 = nn.LazyConv2d(c3[0], kernel_size=1)
            self.b3_2 = nn.LazyConv2d(c3[1], kernel_size=5, padding=2)
            self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
            self.b4_2 = nn.LazyConv2d(c4, kernel_size=1)

        def forward(self, x):
            b1 = F.relu(self.b1_1(x))
            b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
            b3 = F.relu(self.b3_2(F.relu(self.b3_1(x))))
            b4 = F.relu(self.b4_2(self.b4_1(x)))
            return T.cat((b1, b2, b3, b4), dim=1)

    class Residual(nn.Module):
        def __init__(self, num_channels, use_1x1conv=False, strides=1):
            super().__init__()
            self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
            self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
            self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides) \
                if use_1x1conv else None
            self.bn1, self.bn2 = nn.LazyBatchNorm2d(), nn.LazyBatchNorm2d()

        def forward(self, X):
            Y = F.relu(self.bn1(self.conv1(X)))
            Y = self.bn2(self.conv2(Y))
            if self.conv3:
                X = self.conv3(X)
            Y += X
            return F.relu(Y)

    def conv_block(num_channels):
        return nn.Sequential(nn.LazyBatchNorm2d(), nn.ReLU(),
                             nn.LazyConv2d(num_channels, kernel_size=3, padding=1))

    class DenseBlock(nn.Module):
        def __init__(self, num_convs, num_channels):
            super().__init__()
            self.net = nn.Sequential(*[conv_block(num_channels) for _ in range(num_convs)])

        def forward(self, X):
            for blk in self.net:
                Y = blk(X)
                X = T.cat((X, Y), dim=1)
            return X

    def transition_block(num_channels):
        return nn.Sequential(nn.LazyBatchNorm2d(), nn.ReLU(),
                             nn.LazyConv2d(num_channels, kernel_size=1),
                             nn.AvgPool2d(kernel_size=2, stride=2))

    def net():
        return nn.Sequential(
            nin_block(4, kernel_size=3, strides=1, padding=1),
            nn.Conv2d(4, 4, kernel_size=3, padding=1), BatchNorm(4, num_dims=4), nn.Sigmoid(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
            Inception(2, (2, 3), (1, 2), 2),
            Residual(6, use_1x1conv=True, strides=2), Residual(6),
            DenseBlock(2, 3), transition_block(5),
            nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
            nn.LazyLinear(8), BatchNorm(8, num_dims=2), nn.ReLU(), nn.Linear(8, 3))
    return net


def modern_cnns(T, wrap=_identity, steps=STEPS):
    model = _cnn_classes(T)()
    rng = np.random.RandomState(10)
    xs = rng.standard_normal((steps, 4, 1, 12, 12))
    ys = rng.randint(0, 3, size=(steps, 4))
    model.eval()     # (the running statistics stay as made)
    with T.no_grad():
        model(T.tensor(xs[0], dtype=T.float32))    # materializes the lazy layers
    model.to(T.float64)   # (the batch norm's moving statistics stay float32 until its first step)
    _set_weights(T, model, seed=11)
    opt = T.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)

    @wrap
    def step(X, y):
        loss = T.nn.functional.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    model.train()
    losses = [step(T.tensor(x), T.tensor(y)).item() for x, y in zip(xs, ys)]
    model.eval()
    with T.no_grad():
        losses.append(T.nn.functional.cross_entropy(model(T.tensor(xs[0])), T.tensor(ys[0])).item())
    return losses


# ------------------------------------------------------------------ optimizers by hand
def _hand_optimizers():
    def sgd_momentum(params, states, hyperparams, T):
        for p, v in zip(params, states):
            with T.no_grad():
                v[:] = hyperparams['momentum'] * v + p.grad
                p[:] -= hyperparams['lr'] * v
            p.grad.data.zero_()

    def adagrad(params, states, hyperparams, T):
        eps = 1e-6
        for p, s in zip(params, states):
            with T.no_grad():
                s[:] += T.square(p.grad)
                p[:] -= hyperparams['lr'] * p.grad / T.sqrt(s + eps)
            p.grad.data.zero_()

    def rmsprop(params, states, hyperparams, T):
        gamma, eps = hyperparams['gamma'], 1e-6
        for p, s in zip(params, states):
            with T.no_grad():
                s[:] = gamma * s + (1 - gamma) * T.square(p.grad)
                p[:] -= hyperparams['lr'] * p.grad / T.sqrt(s + eps)
            p.grad.data.zero_()

    def adadelta(params, states, hyperparams, T):
        rho, eps = hyperparams['rho'], 1e-5
        for p, (s, delta) in zip(params, states):
            with T.no_grad():
                s[:] = rho * s + (1 - rho) * T.square(p.grad)
                g = (T.sqrt(delta + eps) / T.sqrt(s + eps)) * p.grad
                p[:] -= g
                delta[:] = rho * delta + (1 - rho) * g * g
            p.grad.data.zero_()

    def adam(params, states, hyperparams, T):
        beta1, beta2, eps = 0.9, 0.999, 1e-6
        for p, (v, s) in zip(params, states):
            with T.no_grad():
                v[:] = beta1 * v + (1 - beta1) * p.grad
                s[:] = beta2 * s + (1 - beta2) * T.square(p.grad)
                v_bias_corr = v / (1 - beta1 ** hyperparams['t'])
                s_bias_corr = s / (1 - beta2 ** hyperparams['t'])
                p[:] -= hyperparams['lr'] * v_bias_corr / (T.sqrt(s_bias_corr) + eps)
            p.grad.data.zero_()
        hyperparams['t'] += 1

    return [(sgd_momentum, 1, {'lr': 0.02, 'momentum': 0.5}),
            (adagrad, 1, {'lr': 0.1}),
            (rmsprop, 1, {'lr': 0.01, 'gamma': 0.9}),
            (adadelta, 2, {'rho': 0.9}),
            (adam, 2, {'lr': 0.01, 't': 1})]


def hand_optimizers(T, wrap=_identity, steps=STEPS):
    feature_dim, batch = 5, 10
    rng = np.random.RandomState(12)
    data = rng.standard_normal((steps * batch, feature_dim + 1))
    losses = []
    for trainer_fn, n_states, hyperparams in _hand_optimizers():
        w = T.tensor(rng.standard_normal((feature_dim, 1)) * 0.01, requires_grad=True)
        b = T.zeros((1,), dtype=T.float64, requires_grad=True)
        states = [tuple(T.zeros(p.shape, dtype=T.float64) for _ in range(n_states))
                  if n_states > 1 else T.zeros(p.shape, dtype=T.float64) for p in (w, b)]
        n = 0

        def net(X):
            return T.matmul(X, w) + b

        def squared_loss(y_hat, y):
            return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

        @wrap
        def step(X, y, trainer_fn=trainer_fn, states=states, hyperparams=hyperparams):
            nonlocal n
            l = squared_loss(net(X), y).mean()
            l.backward()
            trainer_fn([w, b], states, hyperparams, T)
            n += X.shape[0]
            return l

        for i in range(steps):
            chunk = T.tensor(data[i * batch:(i + 1) * batch])
            losses.append(step(chunk[:, :-1], chunk[:, -1]).item())
    return losses


PROGRAMS = {"gru_lstm_scratch": gru_lstm_scratch, "concise_rnns": concise_rnns,
            "seq2seq_attention": seq2seq_attention, "transformer": transformer,
            "modern_cnns": modern_cnns, "hand_optimizers": hand_optimizers}
