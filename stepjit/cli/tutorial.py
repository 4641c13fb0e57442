"""The program `stepjit demo` trains: the PyTorch tutorial's two-layer network with a custom
ReLU and hand-written SGD ("Learning PyTorch with Examples"), as examples/two_layer_net.py
has it. It lives in the package so that an installed stepjit can run the demo without the
source tree; benchmarks/ time the same step."""
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


def step(x, y, w1, w2, learning_rate):
    """One training step: forward, backward, SGD update. Returns the loss."""
    y_pred = MyReLU.apply(x.mm(w1)).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()
    return loss
