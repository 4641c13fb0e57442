"""The progress line on stderr while a compile takes long (stepjit/progress.py)."""
import pytest

import stepjit as torch
from stepjit import progress


def _step():
    w = torch.randn(5, 3, requires_grad=True)

    def step(x):
        loss = (x @ w).tanh().sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss
    return torch.compile(step), torch.randn(4, 5)


@pytest.mark.parametrize("flag,shown", [("1", True), ("0", False)])
def test_a_slow_compile_says_what_it_compiles(monkeypatch, capsys, fresh_kernels, flag, shown):
    monkeypatch.setenv("STEPJIT_PROGRESS", flag)
    monkeypatch.setattr(progress, "THRESHOLD", 0.0)     # every compile counts as slow
    step, x = _step()
    step(x)
    err = capsys.readouterr().err
    if not shown:
        assert "stepjit: compil" not in err
        return
    lines = [l for l in err.splitlines() if l.startswith("stepjit: ")]
    assert any(l.startswith("stepjit: compiling step: kernel 1 (") for l in lines), err
    assert lines[-1].startswith("stepjit: compiled step in ") and "kernels compiled or loaded" \
        in lines[-1], err


def test_quiet_when_fast_or_not_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv("STEPJIT_PROGRESS", raising=False)   # stderr is captured: not a tty
    monkeypatch.setattr(progress, "THRESHOLD", 0.0)
    step, x = _step()
    step(x)
    assert "stepjit: compil" not in capsys.readouterr().err
    monkeypatch.setenv("STEPJIT_PROGRESS", "1")
    monkeypatch.setattr(progress, "THRESHOLD", 3600.0)      # nothing takes an hour
    step(torch.randn(6, 5))
    assert "stepjit: compil" not in capsys.readouterr().err
