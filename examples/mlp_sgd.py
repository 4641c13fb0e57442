"""An nn.Module MLP regressing a smooth function, trained with torch.optim.SGD(momentum=0.9).

The usual PyTorch training loop (zero_grad, forward, MSELoss, backward, step);
only the import line differs. Run it with `python examples/mlp_sgd.py`.
"""
import stepjit as torch


class MLP(torch.nn.Module):
    def __init__(self, d_in=4, hidden=32, d_out=1):
        super().__init__()
        self.fc1 = torch.nn.Linear(d_in, hidden)
        self.act = torch.nn.ReLU()
        self.fc2 = torch.nn.Linear(hidden, d_out)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def init(seed=0, N=128, d_in=4, hidden=32, d_out=1):
    """Data y = sin(sum of x) and a freshly initialized MLP."""
    torch.manual_seed(seed)
    x = torch.randn(N, d_in)
    y = torch.sin(x.sum(dim=1, keepdim=True))
    model = MLP(d_in, hidden, d_out)
    return x, y, model


def main(steps=200, data=None, lr=0.01, momentum=0.9, log_every=50):
    """Train; returns the loss of every step (before its update).

    `data` is (x, y, model); by default `init()` makes them."""
    x, y, model = data if data is not None else init()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = torch.nn.MSELoss()
    losses = []
    for t in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if log_every and t % log_every == log_every - 1:
            print(t, loss.item())
    return losses


if __name__ == "__main__":
    main()
