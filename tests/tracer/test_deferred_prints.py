"""A step that prints its loss every call, or every few calls, with `.item()` and a loop counter
(`print(t, loss.item())`, the official tutorials' logging): the print waits for each call's
write-back (tracer/printing.py), so the step replays, printing what eager prints, line for line
and in order with what the loop prints between calls. It was traced on every call (4 traces,
then 16 of 20 calls eager) or, printing every 5th call, made a trace per print (5 traces, 7
calls eager). A print the write-back cannot make (a tensor, a float read exactly) still prints
at once, after the waiting ones; a printed or formatted tensor shows its values (it showed
`<trace-time tensor %6: f64[]>` on traced calls). float64, interpret backend: the text is
eager's, bit for bit."""
import contextlib
import io

import pytest

import stepjit as torch

CALLS = 20


def _loop(compiled, how):
    torch.manual_seed(0)
    w = torch.randn(4, dtype=torch.float64, requires_grad=True)
    xs = torch.randn(CALLS, 6, 4, dtype=torch.float64)
    t, log = [0], []

    def step(x):
        loss = (x @ w).pow(2).mean()
        if how == "every call":
            print(t[0], loss.item())
        elif how == "every 5th":
            if t[0] % 5 == 4:
                print("step", t[0], "loss", loss.item(), sep=" | ")
        elif how == "tensor":    # its values, handed to Python: its Python runs every call
            print(loss)
            log.append(f"{(x @ w)[:2]!r}")
        else:     # then one it cannot wait for: the order stays eager's
            print(t[0], loss.item(), end="; ")
            print(float(loss))
        t[0] += 1
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad = None
        return loss
    f = torch.compile(step, backend="interpret") if compiled else step
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for i in range(CALLS):
            f(xs[i])
            print("after", i)
    return out.getvalue() + "".join(log), w.detach().numpy().tolist(), f


@pytest.mark.parametrize("how, traces", [("every call", 2), ("every 5th", 3)])
def test_a_printed_item_waits_for_the_write_back(how, traces):
    want = _loop(False, how)
    got = _loop(True, how)
    assert got[:2] == want[:2] and want[0].count("loss" if how == "every 5th" else "\n") >= 4
    st = got[2].stats()
    assert st["mode"] == "tree" and st["eager_calls"] == 0 and st["fallbacks"] == 0, st
    assert st["traces"] == traces, st    # (first call; counter read per call; a print branch)


def test_a_print_that_cannot_wait_keeps_the_order():
    want = _loop(False, "mixed")
    got = _loop(True, "mixed")
    assert got[:2] == want[:2]


def test_a_printed_tensor_shows_its_values():
    want = _loop(False, "tensor")
    got = _loop(True, "tensor")
    assert "trace-time" not in got[0] and "grad_fn=<MeanBackward0>" in got[0]
    assert got[:2] == want[:2]
    assert got[2].stats()["fallbacks"] == 0


def test_a_step_that_raises_after_printing_printed():
    w = torch.ones(3, requires_grad=True)

    def step(x):
        print("loss", (w * x).sum().item())
        raise ValueError("stop")
    out = []
    for f in (step, torch.compile(step, backend="interpret")):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), pytest.raises(ValueError, match="stop"):
            f(torch.ones(3))
        out.append(buf.getvalue())
    assert out[1] == out[0] == "loss 3.0\n"
