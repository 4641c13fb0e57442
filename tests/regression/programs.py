"""Whole training programs, written the way PyTorch tutorials write them.

Each `make(device="cpu")` seeds the global generator, builds model, optimizer and data on
`device` (as a tutorial does with `device = "cuda" if torch.cuda.is_available() else "cpu"`),
and returns a Program (see harness.py). `small=True` shrinks the batch and hidden sizes of the
programs whose matmuls are large for Numba's CUDA simulator (it runs every GPU thread as a
Python thread); the code run is the same. The regression tests run each eagerly and compiled
on every backend and compare every step; on backend "cuda" the program's tensors live on
the device, eagerly and compiled, and are compared with the eager run on the CPU. Several draw random numbers inside the step (dropout,
noise, shuffled minibatches): those check that the counter-based generator gives the
compiled step the same numbers as the eager one, on every call, without retracing.
"""
import stepjit as torch
import stepjit.nn as nn
import stepjit.nn.functional as F

from tests.runtime.programs import MyReLU  # the tutorial's custom ReLU, written once

from .harness import Program


def two_layer_custom_relu(device="cpu", small=False):
    """The PyTorch tutorial's two-layer net: custom ReLU Function, manual SGD under no_grad."""
    torch.manual_seed(0)
    n, d_in, h, d_out = (8, 10, 6, 5) if small else (32, 50, 20, 5)
    x, y = torch.randn(n, d_in, device=device), torch.randn(n, d_out, device=device)
    w1 = torch.randn(d_in, h, device=device, requires_grad=True)
    w2 = torch.randn(h, d_out, device=device, requires_grad=True)

    def step(x, y, lr):
        y_pred = MyReLU.apply(x.mm(w1)).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1.sub_(lr * w1.grad)
            w2.sub_(lr * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
        return loss
    return Program(step, (x, y, 1e-5), [w1, w2])


def logistic_regression_data(device="cpu", small=False):
    """Updates through `.data`, outside autograd."""
    torch.manual_seed(2)
    x = torch.randn(16 if small else 64, 3, device=device)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).float().reshape(-1, 1)
    w = torch.zeros(3, 1, device=device, requires_grad=True)
    b = torch.zeros(1, device=device, requires_grad=True)

    def step(x, y):
        p = torch.sigmoid(x @ w + b)
        loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
        loss.backward()
        w.data -= 0.5 * w.grad.data
        b.data -= 0.5 * b.grad.data
        w.grad.data.zero_()
        b.grad.data.zero_()
        return loss
    return Program(step, (x, y), [w, b], steps=8)


def linear_regression(device="cpu", small=False):
    """nn.Linear, MSELoss, plain SGD; the true weights are recovered."""
    torch.manual_seed(3)
    x = torch.randn(16 if small else 100, 2, device=device)
    y = x @ torch.tensor([[2.0], [-3.0]], device=device) + 0.5
    model = nn.Linear(2, 1).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return Program(step, (x, y), list(model.parameters()), steps=8)


def _mlp(device, small, opt_cls, seed, **opt_kw):
    torch.manual_seed(seed)
    n, h = (8, 8) if small else (32, 16)
    model = nn.Sequential(nn.Linear(6, h), nn.ReLU(), nn.Linear(h, h), nn.Tanh(),
                          nn.Linear(h, 3)).to(device)
    opt = opt_cls(model.parameters(), **opt_kw)
    loss_fn = nn.MSELoss()
    x, y = torch.randn(n, 6, device=device), torch.randn(n, 3, device=device)

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return Program(step, (x, y), list(model.parameters()))


def mlp_sgd_momentum(device="cpu", small=False):
    return _mlp(device, small, torch.optim.SGD, 10, lr=0.05, momentum=0.9)


def mlp_sgd_nesterov_weight_decay(device="cpu", small=False):
    return _mlp(device, small, torch.optim.SGD, 11, lr=0.05, momentum=0.9, nesterov=True,
                weight_decay=1e-3)


def mlp_adam(device="cpu", small=False):
    return _mlp(device, small, torch.optim.Adam, 12, lr=1e-2)


def mlp_adamw(device="cpu", small=False):
    return _mlp(device, small, torch.optim.AdamW, 13, lr=1e-2, weight_decay=0.1)


def softmax_classifier(device="cpu", small=False):
    """A linear softmax classifier with CrossEntropyLoss on well-separated synthetic blobs."""
    torch.manual_seed(4)
    n = 24 if small else 96
    centers = torch.randn(4, 8) * 3
    labels = torch.randint(0, 4, (n,))
    x = (centers[labels] + torch.randn(n, 8)).to(device)
    labels = labels.to(device)
    model = nn.Linear(8, 4).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()

    def step(x, labels):
        opt.zero_grad()
        logits = model(x)
        loss = loss_fn(logits, labels)
        loss.backward()
        opt.step()
        return loss, (logits.argmax(dim=1) == labels).float().mean()
    return Program(step, (x, labels), list(model.parameters()), steps=8)


def dropout_train_and_eval(device="cpu", small=False):
    """Dropout in train mode (fresh masks every call) alternating with an eval() step."""
    torch.manual_seed(5)
    n, h = (8, 8) if small else (16, 32)
    model = nn.Sequential(nn.Linear(10, h), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(h, 1)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
    x, y = torch.randn(n, 10, device=device), torch.randn(n, 1, device=device)

    def train_step(x, y):
        model.train()
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def eval_step(x, y):
        model.eval()
        with torch.no_grad():
            return F.mse_loss(model(x), y)
    # train_step's model.train() changes model.training (False -> True) after an eval step:
    # a replay would not make that change, so train_step is traced on every call from then on
    # (9 steps: 6 train_step calls, one trace each at most).
    return Program([train_step, train_step, eval_step], (x, y), list(model.parameters()), steps=9,
                   max_traces=6)


def dropout_functional_and_noise(device="cpu", small=False):
    """F.dropout, randn noise and bernoulli inside one step."""
    torch.manual_seed(6)
    w = torch.randn(12, 4, device=device, requires_grad=True)
    x = torch.randn(8, 12, device=device)

    def step(x):
        nonlocal w  # `w -= ...` rebinds the name (to the same tensor)
        noisy = x + 0.1 * torch.randn(8, 12, device=device)
        keep = torch.bernoulli(torch.full((8, 1), 0.75, device=device))
        h = F.dropout(noisy @ w, p=0.5, training=True) * keep
        loss = h.pow(2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
        return loss, keep
    return Program(step, (x,), [w], steps=6)


def gradient_accumulation(device="cpu", small=False):
    """Four micro-batches per step, each backward accumulating into .grad, one update."""
    torch.manual_seed(7)
    n = 8 if small else 32
    model = nn.Sequential(nn.Linear(5, 8), nn.Sigmoid(), nn.Linear(8, 1)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(n, 5, device=device), torch.randn(n, 1, device=device)

    def step(x, y):
        opt.zero_grad()
        total = 0.0
        for xb, yb in zip(x.chunk(4), y.chunk(4)):
            loss = F.mse_loss(model(xb), yb) / 4
            loss.backward()
            total = total + loss.detach()
        opt.step()
        return total
    return Program(step, (x, y), list(model.parameters()))


def two_losses_retain_graph(device="cpu", small=False):
    torch.manual_seed(8)
    x = torch.randn(10, 3, device=device)
    w = torch.randn(3, 2, device=device, requires_grad=True)
    b = torch.zeros(2, device=device, requires_grad=True)

    def step(x):
        z = x @ w + b
        loss1 = z.pow(2).mean()
        loss1.backward(retain_graph=True)
        loss2 = (z.sigmoid() * 3).sum()
        loss2.backward()
        with torch.no_grad():
            w.sub_(0.05 * w.grad)
            b.sub_(0.05 * b.grad)
        w.grad.zero_()
        b.grad.zero_()
        return loss1, loss2
    return Program(step, (x,), [w, b])


def hooks_and_retain_grad(device="cpu", small=False):
    torch.manual_seed(9)
    x = torch.randn(6, 4, device=device)
    w = torch.randn(4, 3, device=device, requires_grad=True)
    w.register_hook(lambda g: g.clamp(-0.5, 0.5))

    def step(x):
        h = x @ w
        h.retain_grad()
        h.register_hook(lambda g: g * 2)
        loss = h.tanh().pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss, h.grad
    return Program(step, (x,), [w])


def no_grad_evaluation(device="cpu", small=False):
    """A training step and a separately compiled evaluation step under no_grad."""
    torch.manual_seed(10)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    n = 8 if small else 20
    x, y = torch.randn(n, 4, device=device), torch.randn(n, 2, device=device)
    xv, yv = torch.randn(10, 4, device=device), torch.randn(10, 2, device=device)

    def train(x, y, xv, yv):
        opt.zero_grad()
        loss = F.l1_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def evaluate(x, y, xv, yv):
        with torch.no_grad():
            pred = model(xv)
            return F.l1_loss(pred, yv), pred.requires_grad
    return Program([train, evaluate], (x, y, xv, yv), list(model.parameters()), steps=8)


class TanhRNN(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.ih = nn.Linear(n_in, n_hidden)
        self.hh = nn.Linear(n_hidden, n_hidden, bias=False)
        self.out = nn.Linear(n_hidden, n_out)

    def forward(self, xs):                 # xs: [time, batch, n_in], fixed length
        h = torch.zeros(xs.shape[1], self.hh.weight.shape[0], device=xs.device)
        for t in range(xs.shape[0]):
            h = torch.tanh(self.ih(xs[t]) + self.hh(h))
        return self.out(h)


def rnn_tanh(device="cpu", small=False):
    torch.manual_seed(11)
    length, h = (4, 6) if small else (7, 12)
    model = TanhRNN(3, h, 2).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    xs, y = torch.randn(length, 5, 3, device=device), torch.randn(5, 2, device=device)

    def step(xs, y):
        opt.zero_grad()
        loss = F.mse_loss(model(xs), y)
        loss.backward()
        opt.step()
        return loss
    return Program(step, (xs, y), list(model.parameters()))


def data_dependent_branch(device="cpu", small=False):
    """The step takes a different path depending on the loss's value."""
    torch.manual_seed(12)
    w = torch.randn(4, 1, device=device, requires_grad=True)
    x, y = torch.randn(16, 4, device=device), torch.randn(16, 1, device=device)

    def step(x, y):
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            if loss.item() > 1.5:          # big loss: a large step
                w.sub_(0.2 * w.grad)
            else:
                w.sub_(0.05 * w.grad.clamp(-1, 1))
        w.grad.zero_()
        return loss
    # On cuda: calls 1-2 take the first branch, 3 the other, 4 replays it.
    return Program(step, (x, y), [w], steps=10, max_traces=4, cuda_steps=4)


def shuffled_minibatches(device="cpu", small=False):
    """randperm inside the step picks a minibatch; bce-with-logits loss."""
    torch.manual_seed(13)
    x = torch.randn(40, 6, device=device)
    y = (x.sum(1, keepdim=True) > 0).float()
    model = nn.Linear(6, 1).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    loss_fn = nn.BCEWithLogitsLoss()

    def step(x, y):
        idx = torch.randperm(40, device=x.device)[:10]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        return loss, idx
    return Program(step, (x, y), list(model.parameters()), steps=8)


def changing_batches(device="cpu", small=False):
    """A new batch (same shape) every call: the trace is reused with new data."""
    torch.manual_seed(14)
    data = [(torch.randn(8, 3, device=device), torch.randn(8, 1, device=device))
            for _ in range(3)]
    model = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 1)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return Program(step, lambda k: data[k % 3], list(model.parameters()), steps=9)


def inplace_and_indexing(device="cpu", small=False):
    """Masked writes, slicing and index tensors on the way to the loss."""
    torch.manual_seed(15)
    w = torch.randn(5, 5, device=device, requires_grad=True)
    x = torch.randn(7, 5, device=device)
    rows = torch.tensor([0, 2, 4])       # CPU indices may index a CUDA tensor, as in PyTorch

    def step(x):
        h = x @ w
        h = h.clone()
        h[h < -1.0] = -1.0
        h[:, 0] = h[:, 0] * 2
        loss = h[rows].sum() + h[1:, ::2].pow(2).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.01 * w.grad)
            w.grad.zero_()
        return loss
    return Program(step, (x,), [w])


PROGRAMS = {f.__name__: f for f in (
    two_layer_custom_relu, logistic_regression_data, linear_regression, mlp_sgd_momentum,
    mlp_sgd_nesterov_weight_decay, mlp_adam, mlp_adamw, softmax_classifier,
    dropout_train_and_eval, dropout_functional_and_noise, gradient_accumulation,
    two_losses_retain_graph, hooks_and_retain_grad, no_grad_evaluation, rnn_tanh,
    data_dependent_branch, shuffled_minibatches, changing_batches, inplace_and_indexing)}
