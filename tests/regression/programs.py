"""Whole training programs, written the way PyTorch tutorials write them.

Each `make()` seeds the global generator, builds model, optimizer and data, and returns a
Program (see harness.py). The regression tests run each eagerly and compiled on every
backend and compare every step. Several draw random numbers inside the step (dropout,
noise, shuffled minibatches): those check that the counter-based generator gives the
compiled step the same numbers as the eager one, on every call, without retracing.
"""
import stepjit as torch
import stepjit.nn as nn
import stepjit.nn.functional as F

from tests.runtime.programs import MyReLU  # the tutorial's custom ReLU, written once

from .harness import Program


def two_layer_custom_relu():
    """The PyTorch tutorial's two-layer net: custom ReLU Function, manual SGD under no_grad."""
    torch.manual_seed(0)
    x, y = torch.randn(32, 50), torch.randn(32, 5)
    w1 = torch.randn(50, 20, requires_grad=True)
    w2 = torch.randn(20, 5, requires_grad=True)

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


def logistic_regression_data():
    """Updates through `.data`, outside autograd."""
    torch.manual_seed(2)
    x = torch.randn(64, 3)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).float().reshape(-1, 1)
    w = torch.zeros(3, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)

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


def linear_regression():
    """nn.Linear, MSELoss, plain SGD; the true weights are recovered."""
    torch.manual_seed(3)
    x = torch.randn(100, 2)
    y = x @ torch.tensor([[2.0], [-3.0]]) + 0.5
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return Program(step, (x, y), list(model.parameters()), steps=8)


def _mlp(opt_cls, seed, **opt_kw):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, 3))
    opt = opt_cls(model.parameters(), **opt_kw)
    loss_fn = nn.MSELoss()
    x, y = torch.randn(32, 6), torch.randn(32, 3)

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return Program(step, (x, y), list(model.parameters()))


def mlp_sgd_momentum():
    return _mlp(torch.optim.SGD, 10, lr=0.05, momentum=0.9)


def mlp_sgd_nesterov_weight_decay():
    return _mlp(torch.optim.SGD, 11, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)


def mlp_adam():
    return _mlp(torch.optim.Adam, 12, lr=1e-2)


def mlp_adamw():
    return _mlp(torch.optim.AdamW, 13, lr=1e-2, weight_decay=0.1)


def softmax_classifier():
    """A linear softmax classifier with CrossEntropyLoss on well-separated synthetic blobs."""
    torch.manual_seed(4)
    centers = torch.randn(4, 8) * 3
    labels = torch.randint(0, 4, (96,))
    x = centers[labels] + torch.randn(96, 8)
    model = nn.Linear(8, 4)
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


def dropout_train_and_eval():
    """Dropout in train mode (fresh masks every call) alternating with an eval() step."""
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
    x, y = torch.randn(16, 10), torch.randn(16, 1)

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
    return Program([train_step, train_step, eval_step], (x, y), list(model.parameters()), steps=9)


def dropout_functional_and_noise():
    """F.dropout, randn noise and bernoulli inside one step."""
    torch.manual_seed(6)
    w = torch.randn(12, 4, requires_grad=True)
    x = torch.randn(8, 12)

    def step(x):
        nonlocal w  # `w -= ...` rebinds the name (to the same tensor)
        noisy = x + 0.1 * torch.randn(8, 12)
        keep = torch.bernoulli(torch.full((8, 1), 0.75))
        h = F.dropout(noisy @ w, p=0.5, training=True) * keep
        loss = h.pow(2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
        return loss, keep
    return Program(step, (x,), [w], steps=6)


def gradient_accumulation():
    """Four micro-batches per step, each backward accumulating into .grad, one update."""
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(5, 8), nn.Sigmoid(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(32, 5), torch.randn(32, 1)

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


def two_losses_retain_graph():
    torch.manual_seed(8)
    x = torch.randn(10, 3)
    w = torch.randn(3, 2, requires_grad=True)
    b = torch.zeros(2, requires_grad=True)

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


def hooks_and_retain_grad():
    torch.manual_seed(9)
    x = torch.randn(6, 4)
    w = torch.randn(4, 3, requires_grad=True)
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


def no_grad_evaluation():
    """A training step and a separately compiled evaluation step under no_grad."""
    torch.manual_seed(10)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.randn(20, 4), torch.randn(20, 2)
    xv, yv = torch.randn(10, 4), torch.randn(10, 2)

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
        h = torch.zeros(xs.shape[1], self.hh.weight.shape[0])
        for t in range(xs.shape[0]):
            h = torch.tanh(self.ih(xs[t]) + self.hh(h))
        return self.out(h)


def rnn_tanh():
    torch.manual_seed(11)
    model = TanhRNN(3, 12, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    xs, y = torch.randn(7, 5, 3), torch.randn(5, 2)

    def step(xs, y):
        opt.zero_grad()
        loss = F.mse_loss(model(xs), y)
        loss.backward()
        opt.step()
        return loss
    return Program(step, (xs, y), list(model.parameters()))


def data_dependent_branch():
    """The step takes a different path depending on the loss's value."""
    torch.manual_seed(12)
    w = torch.randn(4, 1, requires_grad=True)
    x, y = torch.randn(16, 4), torch.randn(16, 1)

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
    return Program(step, (x, y), [w], steps=10, max_traces=4)


def shuffled_minibatches():
    """randperm inside the step picks a minibatch; bce-with-logits loss."""
    torch.manual_seed(13)
    x = torch.randn(40, 6)
    y = (x.sum(1, keepdim=True) > 0).float()
    model = nn.Linear(6, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    loss_fn = nn.BCEWithLogitsLoss()

    def step(x, y):
        idx = torch.randperm(40)[:10]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        return loss, idx
    return Program(step, (x, y), list(model.parameters()), steps=8)


def changing_batches():
    """A new batch (same shape) every call: the trace is reused with new data."""
    torch.manual_seed(14)
    data = [(torch.randn(8, 3), torch.randn(8, 1)) for _ in range(3)]
    model = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return Program(step, lambda k: data[k % 3], list(model.parameters()), steps=9)


def inplace_and_indexing():
    """Masked writes, slicing and index tensors on the way to the loss."""
    torch.manual_seed(15)
    w = torch.randn(5, 5, requires_grad=True)
    x = torch.randn(7, 5)
    rows = torch.tensor([0, 2, 4])

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
