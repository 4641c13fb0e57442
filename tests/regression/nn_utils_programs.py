"""Whole programs in the style of the pruning, parametrization and SWA tutorials and of a
CTC speech tagger, written for stepjit's tests, run on a torch-shaped module `T` (stepjit, or
PyTorch by tests/fixtures/record_nn_utils.py).

Each `program(T, wrap=identity)` returns floats: its loss at every step and a few summary
numbers. Weights and data come from NumPy (seeded), so PyTorch and stepjit start from the
same numbers; `wrap` is applied to the training step (`stepjit.compile` for a compiled run).

- `pruned_lenet`: a small convolutional net pruned the tutorial's ways (l1_unstructured on a
  conv weight, ln_structured on the other conv's output channels, global_unstructured over
  the linear layers), trained through the masks, then made permanent with prune.remove.
- `normalized_mlp_swa`: an MLP whose first layer is weight-normalized and second
  spectral-normalized (parametrizations), trained with SGD momentum while an AveragedModel
  takes the SWA average and SWALR anneals the lr; the averaged model's loss at the end.
- `ctc_tagger`: per-frame features -> Linear -> log_softmax -> CTCLoss (padded targets of
  different lengths), Adam.
"""
from __future__ import annotations

import importlib

import numpy as np

STEPS = 4


def _identity(fn):
    return fn


def _utils(T, name):
    return importlib.import_module(f"{T.__name__}.nn.utils.{name}")


def _set_weights(T, model, seed, scale=0.3):
    rng = np.random.RandomState(seed)
    with T.no_grad():
        for _, p in model.named_parameters():
            p.copy_(T.from_numpy(rng.standard_normal(tuple(p.shape)) * scale))


def _train(T, model, opt, loss_fn, wrap, steps=STEPS, after=None):
    def step():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss
    fn = wrap(step)
    losses = []
    for _ in range(steps):
        losses.append(fn().item())
        if after is not None:
            after()
    return losses


def pruned_lenet(T, wrap=_identity):
    nn, F = T.nn, T.nn.functional
    prune = _utils(T, "prune")

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3)
            self.conv2 = nn.Conv2d(4, 6, 3)
            self.fc1 = nn.Linear(6 * 2 * 2, 10)
            self.fc2 = nn.Linear(10, 3)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.relu(self.conv2(x))
            return self.fc2(F.relu(self.fc1(x.flatten(1))))

    model = Net().double()
    _set_weights(T, model, 11)
    prune.l1_unstructured(model.conv1, name="weight", amount=0.3)
    prune.ln_structured(model.conv2, name="weight", amount=0.5, n=2, dim=0)
    prune.global_unstructured([(model.fc1, "weight"), (model.fc2, "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.4)
    rng = np.random.RandomState(12)
    x = T.from_numpy(rng.standard_normal((5, 1, 10, 10)))
    y = T.from_numpy(rng.randint(0, 3, 5).astype(np.int64))
    opt = T.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = _train(T, model, opt, lambda: F.cross_entropy(model(x), y), wrap)
    for module in (model.conv1, model.conv2, model.fc1, model.fc2):
        prune.remove(module, "weight")
    zeros = [float((m.weight == 0).sum()) for m in (model.conv1, model.conv2, model.fc1,
                                                     model.fc2)]
    return losses + zeros + [F.cross_entropy(model(x), y).item()]


def normalized_mlp_swa(T, wrap=_identity):
    nn, F = T.nn, T.nn.functional
    P = _utils(T, "parametrizations")
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    _set_weights(T, model, 21)
    P.weight_norm(model[0])
    P.spectral_norm(model[2])
    sn = model[2].parametrizations.weight[0]
    with T.no_grad():
        sn._u.copy_(T.from_numpy(np.full(2, 2 ** -0.5)))
        sn._v.copy_(T.from_numpy(np.full(8, 8 ** -0.5)))
    swa_utils = T.optim.swa_utils
    swa_model = swa_utils.AveragedModel(model)
    opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    sched = swa_utils.SWALR(opt, swa_lr=0.02, anneal_epochs=2)
    rng = np.random.RandomState(22)
    x = T.from_numpy(rng.standard_normal((10, 4)))
    y = T.from_numpy(rng.standard_normal((10, 2)))
    count = [0]

    def after():
        count[0] += 1
        if count[0] >= 2:
            swa_model.update_parameters(model)
            sched.step()
    losses = _train(T, model, opt, lambda: F.mse_loss(model(x), y), wrap, steps=6, after=after)
    swa_model.eval()
    with T.no_grad():
        final = F.mse_loss(swa_model(x), y).item()
    return losses + [final, opt.param_groups[0]["lr"], float(swa_model.n_averaged)]


def ctc_tagger(T, wrap=_identity):
    nn, F = T.nn, T.nn.functional
    frames, batch, feats, classes = 9, 3, 5, 4
    model = nn.Linear(feats, classes).double()
    _set_weights(T, model, 31)
    rng = np.random.RandomState(32)
    x = T.from_numpy(rng.standard_normal((frames, batch, feats)))
    targets = T.from_numpy(np.array([[1, 2, 1, 3], [3, 3, 0, 0], [2, 1, 3, 0]]))
    input_lengths, target_lengths = (9, 7, 8), (4, 2, 3)
    ctc = nn.CTCLoss(blank=0)
    opt = T.optim.Adam(model.parameters(), lr=0.05)

    def loss_fn():
        log_probs = F.log_softmax(model(x), dim=-1)
        return ctc(log_probs, targets, input_lengths, target_lengths)
    return _train(T, model, opt, loss_fn, wrap)


PROGRAMS = {"pruned_lenet": pruned_lenet, "normalized_mlp_swa": normalized_mlp_swa,
            "ctc_tagger": ctc_tagger}
