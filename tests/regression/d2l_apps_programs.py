"""Whole programs in the style of d2l's application chapters (NLP pretraining and applications,
computer vision, GANs), run on a torch-shaped module `T` (stepjit, or PyTorch by
tests/fixtures/record_d2l_apps.py).

Each `program(T, wrap=identity)` returns its loss at every step as floats. Weights and data come
from NumPy (seeded), so PyTorch and stepjit start from the same numbers and PyTorch's recorded
losses are a reference for stepjit's (float64, no dropout). `wrap` is applied to each training
step: `stepjit.compile` for a compiled run. As in those chapters, the model, loss and optimizer
are the step's *arguments* (d2l's `train_batch_ch13(net, X, y, loss, trainer, devices)`,
`update_D(X, Z, net_D, net_G, loss, trainer_D)`), not names it closes over.

What each reaches for:
- `skip_gram`: two nn.Embedding tables, `bmm(v, u.permute(0, 2, 1))`, a masked
  binary_cross_entropy_with_logits (`weight=mask, reduction="none"`, `.mean(dim=1)`) rescaled
  by `mask.sum(axis=1)` and `mask.shape[1]`, `l.sum().backward()`, Adam.
- `sentiment`: a BiRNN (Embedding whose weight is a copied "pretrained" table with
  `requires_grad = False`, two-layer bidirectional LSTM, `cat((outputs[0], outputs[-1]))`) and
  a TextCNN (a trainable and a constant embedding concatenated, Conv1d's in a ModuleList,
  AdaptiveAvgPool1d, `squeeze(..., dim=-1)`), each wrapped in nn.DataParallel and trained by
  one `train_batch(net, X, y, loss, trainer)` that calls `net.train()`, with a
  cross-entropy of `reduction="none"` summed; between epochs the net is evaluated under
  `net.eval()` and no_grad.
- `nli_attention`: decomposable attention (attend with `bmm` and softmax both ways, compare,
  aggregate with `.sum(dim=1)`), MLPs with Flatten, a list-of-tensors input `[premises,
  hypotheses]`, Adam.
- `gans`: d2l's `update_D` / `update_G` for a linear GAN and a DCGAN (ConvTranspose2d and
  BatchNorm2d generator, Conv2d and LeakyReLU(inplace=True) discriminator): `fake_X.detach()`,
  BCEWithLogitsLoss(reduction='sum') against ones and zeros reshaped to the output, two Adams
  (betas given as a list).
- `bert`: a two-block transformer encoder over token, segment and learned position
  embeddings (`self.pos_embedding[:, :X.shape[1], :]`), masked softmax by valid lengths, the
  attention weights kept on the module (`self.attention_weights = ...`), the masked-LM head
  gathering `X[batch_idx, pred_positions]` with `repeat_interleave`, next-sentence prediction
  on `<cls>`, weighted MLM loss plus NSP loss, Adam.
- `segmentation_style`: an FCN head (1x1 Conv2d, ConvTranspose2d initialized to bilinear
  upsampling by `weight[range(c), range(c), :, :] = filt`, a per-pixel cross entropy
  `reduction='none'` averaged over H and W, SGD with weight decay), then neural style
  transfer (the image as a module's Parameter, gram matrices, total variation, Adam with
  StepLR).
"""
from __future__ import annotations

import math

import numpy as np

from .d2l_modern_programs import _masked_softmax, _set_weights

STEPS = 5


def _identity(fn):
    return fn


def _f64(T, a):
    return T.tensor(np.asarray(a, dtype=np.float64))


# ------------------------------------------------------------------ word2vec
def skip_gram(T, wrap=_identity, steps=STEPS):
    nn, F = T.nn, T.nn.functional
    vocab, embed, batch, width = 12, 6, 4, 5
    net = nn.Sequential(nn.Embedding(vocab, embed), nn.Embedding(vocab, embed)).to(T.float64)
    _set_weights(T, net, seed=21, scale=1.0)

    class SigmoidBCELoss(nn.Module):
        def forward(self, inputs, target, mask=None):
            out = F.binary_cross_entropy_with_logits(inputs, target, weight=mask,
                                                     reduction="none")
            return out.mean(dim=1)

    def skip(center, contexts_and_negatives, embed_v, embed_u):
        v = embed_v(center)
        u = embed_u(contexts_and_negatives)
        return T.bmm(v, u.permute(0, 2, 1))

    @wrap
    def step(net, loss, optimizer, center, context_negative, mask, label):
        optimizer.zero_grad()
        pred = skip(center, context_negative, net[0], net[1])
        l = (loss(pred.reshape(label.shape).double(), label.double(), mask)
             / mask.sum(axis=1) * mask.shape[1])
        l.sum().backward()
        optimizer.step()
        return l.sum()

    loss, opt = SigmoidBCELoss(), T.optim.Adam(net.parameters(), lr=0.05)
    rng = np.random.RandomState(22)
    losses = []
    for _ in range(steps):
        lens = rng.randint(2, width + 1, size=batch)
        mask = (np.arange(width) < lens[:, None]).astype(np.float64)
        label = np.zeros((batch, width))
        label[:, :2] = 1
        losses.append(step(net, loss, opt, T.tensor(rng.randint(0, vocab, (batch, 1))),
                           T.tensor(rng.randint(0, vocab, (batch, width))), _f64(T, mask),
                           _f64(T, label)).item())
    return losses


# ------------------------------------------------------------------ sentiment: BiRNN, TextCNN
def _train_batch(T, net, X, y, loss, trainer):
    """d2l's train_batch_ch13, with the accuracy kept a tensor."""
    net.train()
    trainer.zero_grad()
    pred = net(X)
    l = loss(pred, y)
    l.sum().backward()
    trainer.step()
    correct = (pred.argmax(dim=1).type(y.dtype) == y).type(y.dtype).sum()
    return l.sum(), correct


def sentiment(T, wrap=_identity, steps=STEPS):
    nn = T.nn
    vocab, embed, hidden, batch, num_steps = 11, 5, 4, 4, 6

    class BiRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, embed)
            self.encoder = nn.LSTM(embed, hidden, num_layers=2, bidirectional=True)
            self.decoder = nn.Linear(4 * hidden, 2)

        def forward(self, inputs):
            embeddings = self.embedding(inputs.T)
            self.encoder.flatten_parameters()
            outputs, _ = self.encoder(embeddings)
            encoding = T.cat((outputs[0], outputs[-1]), dim=1)
            return self.decoder(encoding)

    class TextCNN(nn.Module):
        def __init__(self, kernel_sizes=(2, 3), num_channels=(3, 4)):
            super().__init__()
            self.embedding = nn.Embedding(vocab, embed)
            self.constant_embedding = nn.Embedding(vocab, embed)
            self.decoder = nn.Linear(sum(num_channels), 2)
            self.pool = nn.AdaptiveAvgPool1d(1)
            self.relu = nn.ReLU()
            self.convs = nn.ModuleList()
            for c, k in zip(num_channels, kernel_sizes):
                self.convs.append(nn.Conv1d(2 * embed, c, k))

        def forward(self, inputs):
            embeddings = T.cat((self.embedding(inputs), self.constant_embedding(inputs)), dim=2)
            embeddings = embeddings.permute(0, 2, 1)
            encoding = T.cat([T.squeeze(self.relu(self.pool(conv(embeddings))), dim=-1)
                              for conv in self.convs], dim=1)
            return self.decoder(encoding)

    pretrained = np.random.RandomState(31).standard_normal((vocab, embed))
    rng = np.random.RandomState(32)
    losses = []
    for k, make in enumerate((BiRNN, TextCNN)):
        net = make().to(T.float64)
        _set_weights(T, net, seed=33 + k)
        net.embedding.weight.data.copy_(_f64(T, pretrained))
        net.embedding.weight.requires_grad = False
        if make is TextCNN:
            net.constant_embedding.weight.data.copy_(_f64(T, pretrained))
            net.constant_embedding.weight.requires_grad = False
        trainer = T.optim.Adam(net.parameters(), lr=0.01)
        loss = nn.CrossEntropyLoss(reduction="none")
        net = nn.DataParallel(net, device_ids=[T.device("cpu")]).to(T.device("cpu"))
        step = wrap(lambda *a: _train_batch(T, *a))
        for epoch in range(2):
            for _ in range(steps):
                X = T.tensor(rng.randint(0, vocab, (batch, num_steps)))
                y = T.tensor(rng.randint(0, 2, batch))
                l, correct = step(net, X, y, loss, trainer)
                losses.append(l.item())
            net.eval()
            with T.no_grad():
                losses.append(float(net(X).sum()))
    return losses


# ------------------------------------------------------------------ NLI: decomposable attention
def nli_attention(T, wrap=_identity, steps=STEPS):
    nn, F = T.nn, T.nn.functional
    vocab, embed, hidden, batch, num_steps = 10, 5, 6, 3, 4

    def mlp(num_inputs, num_hiddens, flatten):
        net = [nn.Dropout(0.0), nn.Linear(num_inputs, num_hiddens), nn.ReLU()]
        if flatten:
            net.append(nn.Flatten(start_dim=1))
        net += [nn.Dropout(0.0), nn.Linear(num_hiddens, num_hiddens), nn.ReLU()]
        if flatten:
            net.append(nn.Flatten(start_dim=1))
        return nn.Sequential(*net)

    class Attend(nn.Module):
        def __init__(self):
            super().__init__()
            self.f = mlp(embed, hidden, flatten=False)

        def forward(self, A, B):
            f_A, f_B = self.f(A), self.f(B)
            e = T.bmm(f_A, f_B.permute(0, 2, 1))
            beta = T.bmm(F.softmax(e, dim=-1), B)
            alpha = T.bmm(F.softmax(e.permute(0, 2, 1), dim=-1), A)
            return beta, alpha

    class Compare(nn.Module):
        def __init__(self):
            super().__init__()
            self.g = mlp(2 * embed, hidden, flatten=False)

        def forward(self, A, B, beta, alpha):
            return self.g(T.cat([A, beta], dim=2)), self.g(T.cat([B, alpha], dim=2))

    class Aggregate(nn.Module):
        def __init__(self):
            super().__init__()
            self.h = mlp(2 * hidden, hidden, flatten=True)
            self.linear = nn.Linear(hidden, 3)

        def forward(self, V_A, V_B):
            V_A, V_B = V_A.sum(dim=1), V_B.sum(dim=1)
            return self.linear(self.h(T.cat([V_A, V_B], dim=1)))

    class DecomposableAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, embed)
            self.attend, self.compare, self.aggregate = Attend(), Compare(), Aggregate()

        def forward(self, X):
            premises, hypotheses = X
            A, B = self.embedding(premises), self.embedding(hypotheses)
            beta, alpha = self.attend(A, B)
            V_A, V_B = self.compare(A, B, beta, alpha)
            return self.aggregate(V_A, V_B)

    net = DecomposableAttention().to(T.float64)
    _set_weights(T, net, seed=41)
    trainer = T.optim.Adam(net.parameters(), lr=0.01)
    loss = nn.CrossEntropyLoss(reduction="none")
    step = wrap(lambda *a: _train_batch(T, *a))
    rng = np.random.RandomState(42)
    losses = []
    for _ in range(steps):
        X = [T.tensor(rng.randint(0, vocab, (batch, num_steps))) for _ in range(2)]
        l, _ = step(net, X, T.tensor(rng.randint(0, 3, batch)), loss, trainer)
        losses.append(l.item())
    return losses


# ------------------------------------------------------------------ GAN and DCGAN
def _update_D(T, X, Z, net_D, net_G, loss, trainer_D):
    batch_size = X.shape[0]
    ones = T.ones((batch_size,), device=X.device, dtype=X.dtype)
    zeros = T.zeros((batch_size,), device=X.device, dtype=X.dtype)
    trainer_D.zero_grad()
    real_Y = net_D(X)
    fake_X = net_G(Z)
    fake_Y = net_D(fake_X.detach())
    loss_D = (loss(real_Y, ones.reshape(real_Y.shape)) +
              loss(fake_Y, zeros.reshape(fake_Y.shape))) / 2
    loss_D.backward()
    trainer_D.step()
    return loss_D


def _update_G(T, Z, net_D, net_G, loss, trainer_G):
    ones = T.ones((Z.shape[0],), device=Z.device, dtype=Z.dtype)
    trainer_G.zero_grad()
    fake_Y = net_D(net_G(Z))
    loss_G = loss(fake_Y, ones.reshape(fake_Y.shape))
    loss_G.backward()
    trainer_G.step()
    return loss_G


def _dcgan_nets(T):
    nn = T.nn

    class G_block(nn.Module):
        def __init__(self, out_channels, in_channels=3, kernel_size=4, strides=2, padding=1):
            super().__init__()
            self.conv2d_trans = nn.ConvTranspose2d(in_channels, out_channels, kernel_size,
                                                   strides, padding, bias=False)
            self.batch_norm = nn.BatchNorm2d(out_channels)
            self.activation = nn.ReLU()

        def forward(self, X):
            return self.activation(self.batch_norm(self.conv2d_trans(X)))

    class D_block(nn.Module):
        def __init__(self, out_channels, in_channels=3, kernel_size=4, strides=2, padding=1,
                     alpha=0.2):
            super().__init__()
            self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding,
                                    bias=False)
            self.batch_norm = nn.BatchNorm2d(out_channels)
            self.activation = nn.LeakyReLU(alpha, inplace=True)

        def forward(self, X):
            return self.activation(self.batch_norm(self.conv2d(X)))

    net_G = nn.Sequential(G_block(in_channels=4, out_channels=6, strides=1, padding=0),
                          G_block(in_channels=6, out_channels=3),
                          nn.ConvTranspose2d(3, 3, kernel_size=4, stride=2, padding=1,
                                             bias=False),
                          nn.Tanh())                                    # (3, 16, 16)
    net_D = nn.Sequential(D_block(4), D_block(in_channels=4, out_channels=6),
                          nn.Conv2d(6, 1, kernel_size=4, bias=False))   # (1, 1, 1)
    return net_D, net_G


def gans(T, wrap=_identity, steps=STEPS):
    nn = T.nn
    rng = np.random.RandomState(51)
    losses = []
    linear = (nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 3), nn.Tanh(),
                            nn.Linear(3, 1)), nn.Sequential(nn.Linear(2, 2)))
    for k, (net_D, net_G) in enumerate((linear, _dcgan_nets(T))):
        net_D, net_G = net_D.to(T.float64), net_G.to(T.float64)
        _set_weights(T, net_D, seed=52 + k)
        _set_weights(T, net_G, seed=54 + k)
        loss = nn.BCEWithLogitsLoss(reduction='sum')
        hp = {'lr': 0.01, 'betas': [0.5, 0.999]}
        trainer_D = T.optim.Adam(net_D.parameters(), **hp)
        trainer_G = T.optim.Adam(net_G.parameters(), **hp)
        update_D = wrap(lambda *a: _update_D(T, *a))
        update_G = wrap(lambda *a: _update_G(T, *a))
        x_shape, z_shape = ((4, 2), (4, 2)) if k == 0 else ((2, 3, 16, 16), (2, 4, 1, 1))
        for _ in range(steps):
            X, Z = _f64(T, rng.standard_normal(x_shape)), _f64(T, rng.standard_normal(z_shape))
            losses.append(update_D(X, Z, net_D, net_G, loss, trainer_D).item())
            losses.append(update_G(Z, net_D, net_G, loss, trainer_G).item())
    return losses


# ------------------------------------------------------------------ BERT pretraining
def _bert_classes(T, vocab, d, heads, ffn, max_len):
    nn = T.nn

    class DotProductAttention(nn.Module):
        def forward(self, queries, keys, values, valid_lens=None):
            scores = T.bmm(queries, keys.transpose(1, 2)) / math.sqrt(queries.shape[-1])
            self.attention_weights = _masked_softmax(T, scores, valid_lens)
            return T.bmm(self.attention_weights, values)

    class MultiHeadAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = DotProductAttention()
            self.W_q, self.W_k = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
            self.W_v, self.W_o = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)

        def split(self, X):
            X = X.reshape(X.shape[0], X.shape[1], heads, -1).permute(0, 2, 1, 3)
            return X.reshape(-1, X.shape[2], X.shape[3])

        def forward(self, X, valid_lens):
            q, k, v = self.split(self.W_q(X)), self.split(self.W_k(X)), self.split(self.W_v(X))
            valid_lens = T.repeat_interleave(valid_lens, repeats=heads, dim=0)
            out = self.attention(q, k, v, valid_lens)
            out = out.reshape(-1, heads, out.shape[1], out.shape[2]).permute(0, 2, 1, 3)
            return self.W_o(out.reshape(out.shape[0], out.shape[1], -1))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = MultiHeadAttention()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.ffn = nn.Sequential(nn.Linear(d, ffn), nn.ReLU(), nn.Linear(ffn, d))

        def forward(self, X, valid_lens):
            Y = self.ln1(X + self.attention(X, valid_lens))
            return self.ln2(Y + self.ffn(Y))

    class BERT(nn.Module):
        def __init__(self):
            super().__init__()
            self.token_embedding = nn.Embedding(vocab, d)
            self.segment_embedding = nn.Embedding(2, d)
            self.blks = nn.Sequential()
            for i in range(2):
                self.blks.add_module(f"{i}", Block())
            self.pos_embedding = nn.Parameter(T.randn(1, max_len, d, dtype=T.float64))
            self.mlm = nn.Sequential(nn.Linear(d, ffn), nn.ReLU(), nn.LayerNorm(ffn),
                                     nn.Linear(ffn, vocab))
            self.hidden = nn.Sequential(nn.Linear(d, d), nn.Tanh())
            self.nsp = nn.Linear(d, 2)

        def forward(self, tokens, segments, valid_lens, pred_positions):
            X = self.token_embedding(tokens) + self.segment_embedding(segments)
            X = X + self.pos_embedding[:, :X.shape[1], :]
            for blk in self.blks:
                X = blk(X, valid_lens)
            num_pred_positions = pred_positions.shape[1]
            pred_positions = pred_positions.reshape(-1)
            batch_idx = T.repeat_interleave(T.arange(0, X.shape[0]), num_pred_positions)
            masked_X = X[batch_idx, pred_positions]
            masked_X = masked_X.reshape((X.shape[0], num_pred_positions, -1))
            return X, self.mlm(masked_X), self.nsp(self.hidden(X[:, 0, :]))

    return BERT


def bert(T, wrap=_identity, steps=STEPS):
    vocab, d, heads, ffn, batch, max_len, preds = 13, 8, 2, 12, 3, 7, 2
    net = _bert_classes(T, vocab, d, heads, ffn, max_len)().to(T.float64)
    _set_weights(T, net, seed=61)
    loss = T.nn.CrossEntropyLoss()
    trainer = T.optim.Adam(net.parameters(), lr=0.01)

    @wrap
    def step(net, loss, trainer, tokens_X, segments_X, valid_lens_x, pred_positions_X,
             mlm_weights_X, mlm_Y, nsp_y):
        trainer.zero_grad()
        _, mlm_Y_hat, nsp_Y_hat = net(tokens_X, segments_X, valid_lens_x.reshape(-1),
                                      pred_positions_X)
        mlm_l = loss(mlm_Y_hat.reshape(-1, vocab), mlm_Y.reshape(-1)) * \
            mlm_weights_X.reshape(-1, 1)
        mlm_l = mlm_l.sum() / (mlm_weights_X.sum() + 1e-8)
        l = mlm_l + loss(nsp_Y_hat, nsp_y)
        l.backward()
        trainer.step()
        return l

    rng = np.random.RandomState(62)
    losses = []
    for _ in range(steps):
        lens = rng.randint(3, max_len + 1, size=batch)
        weights = np.ones((batch, preds))
        weights[0, 1] = 0
        args = (T.tensor(rng.randint(0, vocab, (batch, max_len))),
                T.tensor((np.arange(max_len) >= lens[:, None] // 2).astype(np.int64)),
                _f64(T, lens), T.tensor(rng.randint(1, 3, (batch, preds))),
                _f64(T, weights), T.tensor(rng.randint(0, vocab, (batch, preds))),
                T.tensor(rng.randint(0, 2, batch)))
        losses.append(step(net, loss, trainer, *args).item())
    return losses


# ------------------------------------------------------------------ FCN head, style transfer
def _bilinear_kernel(T, in_channels, out_channels, kernel_size):
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = (T.arange(kernel_size).reshape(-1, 1), T.arange(kernel_size).reshape(1, -1))
    filt = (1 - T.abs(og[0] - center) / factor) * (1 - T.abs(og[1] - center) / factor)
    weight = T.zeros((in_channels, out_channels, kernel_size, kernel_size), dtype=T.float64)
    weight[range(in_channels), range(out_channels), :, :] = filt.double()
    return weight


def segmentation_style(T, wrap=_identity, steps=STEPS):
    nn, F = T.nn, T.nn.functional
    classes = 4
    net = nn.Sequential(nn.Conv2d(3, 6, kernel_size=3, padding=1), nn.ReLU(),
                        nn.MaxPool2d(2)).to(T.float64)
    _set_weights(T, net, seed=71)
    net.add_module('final_conv', nn.Conv2d(6, classes, kernel_size=1).double())
    net.add_module('transpose_conv', nn.ConvTranspose2d(classes, classes, kernel_size=4,
                                                        padding=1, stride=2).double())
    net.transpose_conv.weight.data.copy_(_bilinear_kernel(T, classes, classes, 4))
    with T.no_grad():
        net.final_conv.weight.copy_(_f64(T, np.random.RandomState(72).uniform(
            -0.5, 0.5, (classes, 6, 1, 1))))
        net.final_conv.bias.zero_()
        net.transpose_conv.bias.zero_()

    def loss(inputs, targets):
        return F.cross_entropy(inputs, targets, reduction='none').mean(1).mean(1)

    trainer = T.optim.SGD(net.parameters(), lr=0.1, weight_decay=1e-3)
    step = wrap(lambda *a: _train_batch(T, *a))
    rng = np.random.RandomState(73)
    losses = []
    for _ in range(steps):
        X = _f64(T, rng.standard_normal((2, 3, 8, 8)))
        l, _ = step(net, X, T.tensor(rng.randint(0, classes, (2, 8, 8))), loss, trainer)
        losses.append(l.item())

    # neural style transfer: the image is the parameter
    def gram(X):
        num_channels, n = X.shape[1], X.numel() // X.shape[1]
        X = X.reshape((num_channels, n))
        return T.matmul(X, X.T) / (num_channels * n)

    def tv_loss(Y_hat):
        return 0.5 * (T.abs(Y_hat[:, :, 1:, :] - Y_hat[:, :, :-1, :]).mean() +
                      T.abs(Y_hat[:, :, :, 1:] - Y_hat[:, :, :, :-1]).mean())

    class SynthesizedImage(nn.Module):
        def __init__(self, img_shape):
            super().__init__()
            self.weight = nn.Parameter(T.rand(*img_shape, dtype=T.float64))

        def forward(self):
            return self.weight

    features = net[:2]
    content_X = _f64(T, rng.uniform(0, 1, (1, 3, 8, 8)))
    style_X = _f64(T, rng.uniform(0, 1, (1, 3, 8, 8)))
    with T.no_grad():
        content_Y, style_gram = features(content_X), gram(features(style_X))
    gen_img = SynthesizedImage(content_X.shape)
    gen_img.weight.data.copy_(content_X.data)
    X = gen_img()
    opt = T.optim.Adam(gen_img.parameters(), lr=0.05)
    scheduler = T.optim.lr_scheduler.StepLR(opt, 2, 0.8)

    @wrap
    def style_step(X, content_Y, style_gram, trainer, scheduler):
        trainer.zero_grad()
        Y_hat = features(X)
        content_l = T.square(Y_hat - content_Y.detach()).mean()
        style_l = T.square(gram(Y_hat) - style_gram.detach()).mean() * 1e3
        l = content_l + style_l + tv_loss(X) * 10
        l.backward()
        trainer.step()
        scheduler.step()
        return l

    for _ in range(steps):
        losses.append(style_step(X, content_Y, style_gram, opt, scheduler).item())
    return losses


PROGRAMS = {"skip_gram": skip_gram, "sentiment": sentiment, "nli_attention": nli_attention,
            "gans": gans, "bert": bert, "segmentation_style": segmentation_style}
