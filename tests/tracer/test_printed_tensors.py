"""A tensor printed or formatted inside a compiled step (`print(loss)`, `print(out[:2])`,
`f"{h!r}"`) shows its values, as eagerly: PyTorch's text, grad_fn included. On a traced call it
showed `<trace-time tensor %6: f64[]>`. The values are handed to Python (as `.numpy()` hands
them), so such a step runs its Python every call (tracer._handed_out)."""
import contextlib
import io

import stepjit as torch

CALLS = 4


def _run(compiled):
    torch.manual_seed(0)
    w = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    xs = torch.randn(CALLS, 5, 4, dtype=torch.float64)
    log = []

    def step(x):
        out = x @ w
        loss = out.pow(2).mean()
        print(loss)
        print(out[:2].detach())
        log.append(f"{out.sum()!r}")
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad = None
        return loss
    f = torch.compile(step, backend="interpret") if compiled else step
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        for i in range(CALLS):
            f(xs[i])
    return buf.getvalue(), log, f


def test_a_printed_tensor_shows_its_values():
    want, want_log, _ = _run(False)
    got, got_log, f = _run(True)
    assert "trace-time" not in got and "grad_fn=<MeanBackward0>" in got
    assert got == want and got_log == want_log
    assert f.stats()["fallbacks"] == 0
