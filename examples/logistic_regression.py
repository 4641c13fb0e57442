"""Logistic regression on two Gaussian blobs, parameters updated through `.data`.

The pre-`no_grad` PyTorch idiom: `w.data -= lr * w.grad.data`, then
`w.grad.data.zero_()`. Only the import line differs from the PyTorch program.
Run it with `python examples/logistic_regression.py`.
"""
import stepjit as torch


def init(seed=0, N=200, D=2):
    """Two blobs of N/2 points, centred at +1 and -1; zero weights."""
    torch.manual_seed(seed)
    half = N // 2
    x = torch.cat([torch.randn(half, D) + 1.0, torch.randn(N - half, D) - 1.0])
    y = torch.cat([torch.ones(half, 1), torch.zeros(N - half, 1)])
    w = torch.zeros(D, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return x, y, w, b


def step(x, y, w, b, lr):
    """Binary cross-entropy written out by hand, one update through .data."""
    y_pred = torch.sigmoid(x.mm(w) + b)
    loss = -(y * torch.log(y_pred) + (1 - y) * torch.log(1 - y_pred)).mean()
    loss.backward()
    w.data -= lr * w.grad.data
    b.data -= lr * b.grad.data
    w.grad.data.zero_()
    b.grad.data.zero_()
    return loss


def main(steps=100, tensors=None, lr=0.5, log_every=20):
    """Train; returns the loss of every step (before its update)."""
    x, y, w, b = tensors if tensors is not None else init()
    losses = []
    for t in range(steps):
        loss = step(x, y, w, b, lr)
        losses.append(loss.item())
        if log_every and t % log_every == log_every - 1:
            print(t, loss.item())
    if log_every:
        accuracy = ((x.mm(w) + b > 0).float() == y).float().mean()
        print(f"accuracy {accuracy.item():.3f}")
    return losses


if __name__ == "__main__":
    main()
