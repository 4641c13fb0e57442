"""A two-layer network with a custom ReLU, trained by hand-written SGD.

The PyTorch tutorial program ("Learning PyTorch with Examples": defining new
autograd functions), unchanged except for the import line. Run it with
`python examples/two_layer_net.py`.
"""
import stepjit as torch


class MyReLU(torch.autograd.Function):
    """ReLU as a custom autograd Function: clamp forward, masked backward."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


def init(seed=0, N=64, D_in=1000, H=100, D_out=10, dtype=torch.float):
    """Random inputs, targets and weights, as the tutorial makes them."""
    torch.manual_seed(seed)
    x = torch.randn(N, D_in, dtype=dtype)
    y = torch.randn(N, D_out, dtype=dtype)
    w1 = torch.randn(D_in, H, dtype=dtype, requires_grad=True)
    w2 = torch.randn(H, D_out, dtype=dtype, requires_grad=True)
    return x, y, w1, w2


def step(x, y, w1, w2, learning_rate):
    """One training step: forward, backward, SGD update. Returns the loss."""
    relu = MyReLU.apply
    y_pred = relu(x.mm(w1)).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()
    return loss


def main(steps=500, tensors=None, learning_rate=1e-6, log_every=100, compiled=False):
    """Train for `steps` steps; returns the loss of every step (before its update).

    `tensors` is (x, y, w1, w2); by default `init()` makes them. `compiled` runs the step
    through `torch.compile` (stepjit's, or PyTorch's: the program stays a PyTorch program)."""
    x, y, w1, w2 = tensors if tensors is not None else init()
    train_step = torch.compile(step) if compiled else step
    losses = []
    for t in range(steps):
        loss = train_step(x, y, w1, w2, learning_rate)
        losses.append(loss.item())
        if log_every and t % log_every == log_every - 1:
            print(t, loss.item())
    return losses


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--eager", action="store_true", help="run the step eagerly, not compiled")
    opts = parser.parse_args()
    main(steps=opts.steps, compiled=not opts.eager)
