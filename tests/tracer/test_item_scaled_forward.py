"""A compiled step that returns `loss * x.item()` and leaves backward to its caller: the
backward derived at trace time (tracer/aot.py) reads the number the forward baked in, which
the forward's exact decision guards already (Tracer.decide_exact reads each value once). It
raised TraceError ("the backward ... reads tensor values into Python")."""
import stepjit as torch


def test_returned_loss_scaled_by_an_item_backpropagates_as_eagerly():
    torch.manual_seed(0)
    w = torch.randn(3, dtype=torch.float64, requires_grad=True)

    def step(x):
        loss = (w * x).sum()
        scale = x.abs().sum().item()
        return loss * scale, loss / (scale + 1.0)

    f = torch.compile(step, backend="interpret")
    for _ in range(4):
        x = torch.randn(3, dtype=torch.float64)
        results = []
        for run in (f, step):
            scaled, shrunk = run(x)
            (scaled + shrunk).backward()
            results.append((scaled.item(), shrunk.item(), w.grad.tolist()))
            w.grad = None
        assert results[0] == results[1]
        assert type(f(x)[0].grad_fn).__name__ == "CompiledFunctionBackward"
    assert f.stats()["fallbacks"] == 0
