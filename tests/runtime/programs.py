"""Whole training programs, each written once and run eagerly and compiled by the tests.

A program is a function `make()` returning (step, args, state): `step` is the
training step, `args` the per-call arguments, `state` the tensors whose values
and `.grad` must match between runs (weights, optimizer state is checked
through the weights). `make` builds everything from a fixed seed, so two calls
give identical, independent copies.
"""
import stepjit as torch
import stepjit.nn as nn
from stepjit.cli.tutorial import MyReLU   # the tutorial's custom ReLU, as `stepjit demo` runs it


def two_layer_custom_relu():
    torch.manual_seed(0)
    x, y = torch.randn(16, 20), torch.randn(16, 4)
    w1 = torch.randn(20, 8, requires_grad=True)
    w2 = torch.randn(8, 4, requires_grad=True)

    def step(x, y, lr):
        nonlocal w1, w2  # `w1 -= ...` rebinds the name (to the same tensor)
        y_pred = MyReLU.apply(x.mm(w1)).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1 -= lr * w1.grad
            w2 -= lr * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
        return loss
    return step, (x, y, 1e-4), [w1, w2]


def mlp_sgd_momentum():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.MSELoss()
    x, y = torch.randn(32, 6), torch.randn(32, 3)

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step, (x, y), list(model.parameters())


def logistic_regression_data():
    torch.manual_seed(2)
    x = torch.randn(40, 3)
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
    return step, (x, y), [w, b]


def accumulate_without_zeroing():
    torch.manual_seed(3)
    x, y = torch.randn(8, 5), torch.randn(8, 1)
    w = torch.randn(5, 1, requires_grad=True)

    def step(x, y):
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()          # gradients pile up across calls, as they do eagerly
        return loss
    return step, (x, y), [w]


def dict_of_metrics():
    torch.manual_seed(4)
    model = nn.Linear(4, 3)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x, target = torch.randn(12, 4), torch.randint(0, 3, (12,))

    def step(x, target):
        opt.zero_grad()
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, target)
        loss.backward()
        opt.step()
        acc = (logits.argmax(dim=1) == target).float().mean()
        return {"loss": loss.detach(), "accuracy": acc, "grad_norm": model.weight.grad.norm()}
    return step, (x, target), list(model.parameters())


PROGRAMS = {f.__name__: f for f in (two_layer_custom_relu, mlp_sgd_momentum,
                                     logistic_regression_data, accumulate_without_zeroing,
                                     dict_of_metrics)}


def hooks_and_retain_grad():
    torch.manual_seed(5)
    x = torch.randn(6, 4)
    w = torch.randn(4, 3, requires_grad=True)
    w.register_hook(lambda g: g.clamp(-0.5, 0.5))          # a leaf hook replaces the gradient

    def step(x):
        h = x @ w
        h.retain_grad()
        h.register_hook(lambda g: g * 2)                    # a non-leaf hook scales it
        loss = h.tanh().pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss, h.grad
    return step, (x,), [w]


def two_backward_calls():
    torch.manual_seed(6)
    x = torch.randn(5, 3)
    w = torch.randn(3, 2, requires_grad=True)
    b = torch.zeros(2, requires_grad=True)

    def step(x):
        nonlocal w, b
        z = x @ w + b
        loss1 = z.pow(2).mean()
        loss1.backward(retain_graph=True)     # two losses through one graph
        loss2 = (z.sigmoid() * 3).sum()
        loss2.backward()
        with torch.no_grad():
            w -= 0.05 * w.grad
            b -= 0.05 * b.grad
        w.grad.zero_()
        b.grad.zero_()
        return loss1 + loss2
    return step, (x,), [w, b]


PROGRAMS.update({f.__name__: f for f in (hooks_and_retain_grad, two_backward_calls)})
