"""Linear regression y = 2x + 1 (plus noise) by gradient descent.

Parameters are plain tensors with requires_grad; the update uses in-place
`sub_` under `no_grad` and clears gradients with `w.grad = None`, as
`optimizer.zero_grad(set_to_none=True)` does. Only the import line differs
from the PyTorch program. Run it with `python examples/linear_regression.py`.
"""
import stepjit as torch


def init(seed=0, N=100):
    torch.manual_seed(seed)
    x = torch.rand(N, 1) * 10
    y = 2 * x + 1 + 0.1 * torch.randn(N, 1)
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return x, y, w, b


def step(x, y, w, b, lr):
    y_pred = x @ w + b
    loss = ((y_pred - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w.sub_(lr * w.grad)
        b.sub_(lr * b.grad)
    w.grad = None
    b.grad = None
    return loss


def main(steps=1000, tensors=None, lr=0.01, log_every=200):
    """Train; returns the loss of every step (before its update)."""
    x, y, w, b = tensors if tensors is not None else init()
    losses = []
    for t in range(steps):
        loss = step(x, y, w, b, lr)
        losses.append(loss.item())
        if log_every and t % log_every == log_every - 1:
            print(t, loss.item())
    if log_every:
        print(f"w = {w.item():.4f}, b = {b.item():.4f} (true: 2, 1)")
    return losses


if __name__ == "__main__":
    main()
