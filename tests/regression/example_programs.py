"""Whole programs in the style of the PyTorch examples and tutorials (pytorch/examples'
siamese_network, mnist_forward_forward, gat, language_translation; the spatial transformer
tutorial), run on a torch-shaped module `T` (stepjit, or PyTorch by
tests/fixtures/record_examples.py).

Each `program(T, wrap=identity)` returns its loss at every step as floats. Weights and data
come from NumPy (seeded), in float64 without dropout, so PyTorch's recorded losses are a
reference for stepjit's. `wrap` is applied to each training step: `stepjit.compile` for a
compiled run.

What each reaches for, as the programs it imitates do:
- `spatial_transformer`: a localization network (conv, max pooling, ReLU) regressing a 2x3
  affine matrix whose last layer starts at the identity (`weight.data.zero_()`, `bias.data =
  tensor([1, 0, 0, 0, 1, 0])`), `F.affine_grid(theta, x.size())` and `F.grid_sample(x, grid)`
  with their default corners, then a conv classifier, `log_softmax`, `nll_loss` and SGD.
- `siamese_pairs`: one small residual tower (conv, BatchNorm in training mode, ReLU, an
  in-place residual add, adaptive average pooling) shared by two images, its classifier cut
  off with `Sequential(*list(tower.children())[:-1])`, `init_weights` applied through
  `Module.apply`, both towers' features concatenated into a Linear head and `Sigmoid`,
  `BCELoss` on the squeezed output, Adadelta(lr=1.0) and a StepLR stepped outside the step.
- `forward_forward`: Hinton's forward-forward training, layer by layer: labels overlaid on
  the input (`x_[:, :10] *= 0.0`, `x_[range(n), y] = x.max()`), a layer that subclasses
  nn.Linear and owns an Adam, its input normalized by `x.norm(2, 1, keepdim=True)`,
  `mm(x, self.weight.T) + self.bias.unsqueeze(0)`, and the goodness loss
  `log1p(exp(cat([-g_pos + threshold, g_neg - threshold]))).mean()`; one compiled step per
  layer.
- `graph_attention`: a two-layer GAT over a graph whose adjacency is `eye(V) +
  sparse_coo_tensor(edges, ones, dtype=int64)` and whose features are row-normalized by
  `diag(1 / rowsum).to_sparse() @ features` (the Cora loader's way): heads from a viewed and
  permuted projection, scores from matmuls with slices of a parameter and `.mT`, LeakyReLU,
  masking by `where(adj > 0, e, -9e16 * ones_like(e))`, softmax, averaged heads, ELU,
  `log_softmax`, NLLLoss on the rows an index tensor picks, Adam with weight decay.
- `transformer_translator`: nn.Transformer with embeddings and a sinusoidal positional
  encoding buffer (written through `[:, 0::2]` and `[:, 1::2]`), a causal mask from `triu`
  and `masked_fill(-inf)`, boolean key padding masks from the pad token, sentences of varying
  lengths collated by `pad_sequence` (so the batches differ in length), logits flattened into
  CrossEntropyLoss(ignore_index=pad), Adam with betas and eps.
"""
from __future__ import annotations

import math

import numpy as np

from .heldout_programs import _identity, _set_weights


def _batches(seed, count, shape, classes):
    rng = np.random.RandomState(seed)
    return [(rng.standard_normal((shape)), rng.randint(0, classes, shape[0]))
            for _ in range(count)]


def _stn_class(T):
    nn, F = T.nn, T.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, kernel_size=3)
            self.fc1 = nn.Linear(4 * 3 * 3, 5)
            self.localization = nn.Sequential(
                nn.Conv2d(1, 3, kernel_size=3), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
            self.fc_loc = nn.Sequential(nn.Linear(3 * 3 * 3, 8), nn.ReLU(True), nn.Linear(8, 6))

        def stn(self, x):
            xs = self.localization(x).view(-1, 3 * 3 * 3)
            theta = self.fc_loc(xs).view(-1, 2, 3)
            grid = F.affine_grid(theta, x.size(), align_corners=False)
            return F.grid_sample(x, grid, align_corners=False)

        def forward(self, x):
            x = F.relu(F.max_pool2d(self.conv1(self.stn(x)), 2))
            return F.log_softmax(self.fc1(x.view(-1, 4 * 3 * 3)), dim=1)
    return Net


def spatial_transformer(T, wrap=_identity, steps=4):
    F = T.nn.functional
    model = _stn_class(T)().to(T.float64)
    _set_weights(T, model, seed=21, scale=0.3)
    model.fc_loc[2].weight.data.zero_()
    model.fc_loc[2].bias.data = T.tensor([1, 0, 0, 0, 1, 0], dtype=T.float64)
    opt = T.optim.SGD(model.parameters(), lr=0.05)

    @wrap
    def step(data, target):
        opt.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        opt.step()
        return loss

    return [step(T.from_numpy(x), T.from_numpy(y)).item()
            for x, y in _batches(22, steps, (3, 1, 8, 8), 5)]


def _siamese_class(T):
    nn = T.nn

    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(4)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(4)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(4, 10)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(x))
            out += x
            return self.fc(T.flatten(self.avgpool(self.relu(out)), 1))

    class Siamese(nn.Module):
        def __init__(self):
            super().__init__()
            tower = Tower()
            self.fc_in_features = tower.fc.in_features
            self.tower = nn.Sequential(*(list(tower.children())[:-1]))
            self.fc = nn.Sequential(nn.Linear(self.fc_in_features * 2, 6), nn.ReLU(inplace=True),
                                    nn.Linear(6, 1))
            self.sigmoid = nn.Sigmoid()
            self.tower.apply(self.init_weights)
            self.fc.apply(self.init_weights)

        def init_weights(self, m):
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                m.bias.data.fill_(0.01)

        def forward_once(self, x):
            out = self.tower[:2](x)
            out = self.tower[2:](out)
            return out.view(out.size()[0], -1)

        def forward(self, a, b):
            both = T.cat((self.forward_once(a), self.forward_once(b)), 1)
            return self.sigmoid(self.fc(both))
    return Siamese


def siamese_pairs(T, wrap=_identity, steps=6):
    model = _siamese_class(T)().to(T.float64)
    _set_weights(T, model, seed=31, scale=0.4)
    opt = T.optim.Adadelta(model.parameters(), lr=1.0)
    sched = T.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    criterion = T.nn.BCELoss()
    rng = np.random.RandomState(32)

    @wrap
    def step(a, b, target):
        opt.zero_grad()
        loss = criterion(model(a, b).squeeze(), target)
        loss.backward()
        opt.step()
        return loss

    losses = []
    for i in range(steps):
        a, b = (T.from_numpy(rng.standard_normal((4, 1, 6, 6))) for _ in range(2))
        losses.append(step(a, b, T.from_numpy(rng.randint(0, 2, 4).astype(np.float64))).item())
        if i % 2 == 1:
            sched.step()
    return losses


def _overlay(T, x, y, classes=10):
    x_ = x.clone()
    x_[:, :classes] *= 0.0
    x_[range(x.shape[0]), y] = x.max()
    return x_


def _ff_layer_class(T, wrap, losses):
    nn = T.nn

    class Layer(nn.Linear):
        def __init__(self, in_features, out_features, epochs):
            super().__init__(in_features, out_features, dtype=T.float64)
            self.relu = nn.ReLU()
            self.opt = None
            self.threshold, self.num_epochs = 2.0, epochs

        def forward(self, x):
            x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
            return self.relu(T.mm(x_direction, self.weight.T) + self.bias.unsqueeze(0))

        def train(self, x_pos, x_neg):
            self.opt = T.optim.Adam(self.parameters(), lr=0.03)

            @wrap
            def step(x_pos, x_neg):
                g_pos = self.forward(x_pos).pow(2).mean(1)
                g_neg = self.forward(x_neg).pow(2).mean(1)
                loss = T.log1p(T.exp(T.cat([-g_pos + self.threshold,
                                            g_neg - self.threshold]))).mean()
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                return loss

            for _ in range(self.num_epochs):
                losses.append(step(x_pos, x_neg).item())
            return self.forward(x_pos).detach(), self.forward(x_neg).detach()
    return Layer


def forward_forward(T, wrap=_identity, epochs=5):
    losses = []
    Layer = _ff_layer_class(T, wrap, losses)
    layers = [Layer(16, 12, epochs), Layer(12, 12, epochs)]
    for i, layer in enumerate(layers):
        _set_weights(T, layer, seed=41 + i, scale=0.3)
    rng = np.random.RandomState(43)
    x = T.from_numpy(rng.standard_normal((8, 16)))
    y = T.from_numpy(rng.randint(0, 10, 8))
    y_neg = (y + T.from_numpy(rng.randint(1, 10, 8))) % 10
    h_pos, h_neg = _overlay(T, x, y), _overlay(T, x, y_neg)
    for layer in layers:
        h_pos, h_neg = layer.train(h_pos, h_neg)
    return losses


def _gat_classes(T):
    nn, F = T.nn, T.nn.functional

    class GraphAttentionLayer(nn.Module):
        def __init__(self, in_features, out_features, n_heads):
            super().__init__()
            self.n_heads, self.n_hidden = n_heads, out_features
            self.W = nn.Parameter(T.empty(size=(in_features, out_features * n_heads)))
            self.a = nn.Parameter(T.empty(size=(n_heads, 2 * out_features, 1)))
            self.leakyrelu = nn.LeakyReLU(0.2)

        def forward(self, h, adj_mat):
            n_nodes = h.shape[0]
            h_transformed = T.mm(h, self.W)
            h_transformed = h_transformed.view(n_nodes, self.n_heads, self.n_hidden).permute(1, 0, 2)
            source_scores = T.matmul(h_transformed, self.a[:, :self.n_hidden, :])
            target_scores = T.matmul(h_transformed, self.a[:, self.n_hidden:, :])
            e = self.leakyrelu(source_scores + target_scores.mT)
            connectivity_mask = -9e16 * T.ones_like(e)
            e = T.where(adj_mat > 0, e, connectivity_mask)
            attention = F.softmax(e, dim=-1)
            return T.matmul(attention, h_transformed).mean(dim=0)

    class GAT(nn.Module):
        def __init__(self, in_features, n_hidden, n_heads, num_classes):
            super().__init__()
            self.gat1 = GraphAttentionLayer(in_features, n_hidden, n_heads)
            self.gat2 = GraphAttentionLayer(n_hidden, num_classes, 1)

        def forward(self, x, adj_mat):
            return F.log_softmax(self.gat2(F.elu(self.gat1(x, adj_mat)), adj_mat), dim=1)
    return GAT


def _graph(T, nodes, feats, seed):
    rng = np.random.RandomState(seed)
    features = T.from_numpy(rng.binomial(1, 0.4, (nodes, feats)).astype(np.float64) + 0.0)
    features[:, 0] = 1.0
    scale = 1 / T.sum(features, dim=1)
    features = T.diag(scale).to_sparse() @ features
    edges = rng.randint(0, nodes, (2 * nodes, 2))
    adj = T.sparse_coo_tensor(edges.T, T.ones(len(edges)), (nodes, nodes), dtype=T.int64)
    return features, T.eye(nodes) + adj, T.from_numpy(rng.randint(0, 3, nodes))


def graph_attention(T, wrap=_identity, steps=6):
    T.set_default_dtype(T.float64)      # (eye and ones of the adjacency are float64 too)
    try:
        features, adj, labels = _graph(T, 12, 7, seed=51)
        model = _gat_classes(T)(7, 4, 2, 3)
        _set_weights(T, model, seed=52, scale=0.5)
        opt = T.optim.Adam(model.parameters(), lr=0.05, weight_decay=5e-4)
        criterion = T.nn.NLLLoss()
        idx_train = T.from_numpy(np.random.RandomState(53).permutation(12)[:8])

        @wrap
        def train_iter(epoch, inputs, target, mask_train):
            model.train()
            opt.zero_grad()
            output = model(*inputs)
            loss = criterion(output[mask_train], target[mask_train])
            loss.backward()
            opt.step()
            return loss

        return [train_iter(i + 1, (features, adj), labels, idx_train).item()
                for i in range(steps)]
    finally:
        T.set_default_dtype(T.float32)


PAD, BOS, EOS = 1, 2, 3


def _translator_classes(T):
    nn = T.nn

    class PositionalEncoding(nn.Module):
        def __init__(self, emb_size, maxlen=32):
            super().__init__()
            den = T.exp(-T.arange(0, emb_size, 2) * math.log(10000) / emb_size)
            pos = T.arange(0, maxlen).reshape(maxlen, 1)
            pos_embedding = T.zeros((maxlen, emb_size))
            pos_embedding[:, 0::2] = T.sin(pos * den)
            pos_embedding[:, 1::2] = T.cos(pos * den)
            self.register_buffer("pos_embedding", pos_embedding.unsqueeze(-2))

        def forward(self, token_embedding):
            return token_embedding + self.pos_embedding[:token_embedding.size(0), :]

    class Translator(nn.Module):
        def __init__(self, emb, src_vocab, tgt_vocab):
            super().__init__()
            self.src_embedding = nn.Embedding(src_vocab, emb)
            self.tgt_embedding = nn.Embedding(tgt_vocab, emb)
            self.pos_enc = PositionalEncoding(emb)
            self.transformer = nn.Transformer(d_model=emb, nhead=2, num_encoder_layers=1,
                                              num_decoder_layers=1, dim_feedforward=12,
                                              dropout=0.0)
            self.ff = nn.Linear(emb, tgt_vocab)

        def forward(self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask):
            outs = self.transformer(self.pos_enc(self.src_embedding(src)),
                                    self.pos_enc(self.tgt_embedding(trg)), src_mask, tgt_mask,
                                    None, src_padding_mask, tgt_padding_mask, src_padding_mask)
            return self.ff(outs)
    return Translator


def _square_subsequent_mask(T, size):
    mask = (T.triu(T.ones((size, size))) == 1).transpose(0, 1)
    return mask.double().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, 0.0)


def _collate(T, pairs):
    def ids(tokens):
        return T.cat((T.tensor([BOS]), T.tensor(tokens), T.tensor([EOS])))
    pad = T.nn.utils.rnn.pad_sequence
    return (pad([ids(s) for s, _ in pairs], padding_value=PAD),
            pad([ids(t) for _, t in pairs], padding_value=PAD))


def transformer_translator(T, wrap=_identity, steps=4):
    T.set_default_dtype(T.float64)
    try:
        model = _translator_classes(T)(8, 12, 10)
        _set_weights(T, model, seed=61, scale=0.3)
        loss_fn = T.nn.CrossEntropyLoss(ignore_index=PAD)
        opt = T.optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.98), eps=1e-9)
        rng = np.random.RandomState(62)
        sentences = [([int(v) for v in rng.randint(4, 12, rng.randint(2, 5))],
                      [int(v) for v in rng.randint(4, 10, rng.randint(2, 5))])
                     for _ in range(3 * steps)]

        @wrap
        def step(src, tgt):
            tgt_input = tgt[:-1, :]
            tgt_mask = _square_subsequent_mask(T, tgt_input.shape[0])
            src_mask = T.zeros((src.shape[0], src.shape[0])).type(T.bool)
            logits = model(src, tgt_input, src_mask, tgt_mask, (src == PAD).transpose(0, 1),
                           (tgt_input == PAD).transpose(0, 1))
            opt.zero_grad()
            tgt_out = tgt[1:, :]
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
            loss.backward()
            opt.step()
            return loss

        return [step(*_collate(T, sentences[3 * i:3 * i + 3])).item() for i in range(steps)]
    finally:
        T.set_default_dtype(T.float32)


PROGRAMS = {"spatial_transformer": spatial_transformer, "siamese_pairs": siamese_pairs,
            "forward_forward": forward_forward, "graph_attention": graph_attention,
            "transformer_translator": transformer_translator}
