"""`stepjit dump` and `stepjit explain` on a script that compiles a training step."""
import json
import textwrap

import pytest

from stepjit.cli import main

SCRIPT = textwrap.dedent("""
    import stepjit as torch
    w = torch.ones(3, requires_grad=True)

    @torch.compile(backend="interpret")
    def train_step(x):
        loss = (x * w).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
        return loss

    for _ in range(3):
        train_step(torch.ones(3))
""")


@pytest.fixture
def script(tmp_path):
    p = tmp_path / "train.py"
    p.write_text(SCRIPT)
    return str(p)


def test_dump_shows_forward_backward_and_update_with_lines(script, capsys):
    assert main(["dump", script]) == 0
    out = capsys.readouterr().out
    assert "def train_step(%x: f32[3]) lifted(%w: f32[3] @w)" in out
    assert "# train.py:7  loss = (x * w).sum()" in out                 # forward
    assert "# train.py:7  (backward) loss = (x * w).sum()" in out      # its gradient
    assert "# train.py:10  w.sub_(0.1 * w.grad)" in out                # the update
    assert "writes(@w <- " in out


def test_dump_options_after_the_script(script, capsys):
    assert main(["dump", script, "--stage", "all", "--fn", "train_step"]) == 0
    out = capsys.readouterr().out
    for stage in ("traced", "autodiff", "optimized", "fused", "kernels"):
        assert f"# stage: {stage}" in out
    assert "group 0: loop over" in out or "loop over [" in out          # fusion groups
    assert "@njit(cache=True" in out and "# %" in out                    # kernel source, IR named


def test_dump_json_and_dot(script, capsys):
    assert main(["dump", script, "--format=json"]) == 0
    first = capsys.readouterr().out.split("\n## ")[0].split("\n", 1)[1]
    assert json.loads(first.split("\n\n")[0])["name"] == "train_step"
    assert main(["dump", script, "--format", "dot"]) == 0
    assert "digraph" in capsys.readouterr().out


def test_explain_names_each_retrace(script, capsys):
    assert main(["explain", script]) == 0
    out = capsys.readouterr().out
    assert "3 calls, 2 traces" in out
    assert "trace 2: w.grad is no longer None" in out


def test_logs_env(script, monkeypatch, capsys):
    monkeypatch.setenv("STEPJIT_LOGS", "recompiles,guards,ir")
    import runpy
    runpy.run_path(script, run_name="__main__")
    err = capsys.readouterr().err
    assert "[stepjit] trace" in err and "first call" in err
    assert "guards of train_step" in err and "def train_step" in err


def test_dump_of_the_tutorial_example_shows_forward_backward_and_update(capsys):
    import os
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "two_layer_net.py")
    assert main(["dump", example, "--steps", "2", "--stage", "autodiff"]) == 0
    out = capsys.readouterr().out
    assert "# stage: autodiff" in out
    assert "%0 = matmul %x, %w1" in out and "y_pred = relu(x.mm(w1)).mm(w2)" in out   # forward
    assert "(backward) y_pred = relu(x.mm(w1)).mm(w2)" in out                          # backward
    assert "grad_input[input < 0] = 0" in out                                          # custom backward
    assert "w1 -= learning_rate * w1.grad" in out and "writes(@w1 <- " in out          # update


def test_dump_kernels_shows_the_native_program_the_tutorial_runs_once_hot(capsys):
    import os

    from stepjit.codegen import blas
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "two_layer_net.py")
    assert main(["dump", example, "--steps", "2", "--stage", "kernels"]) == 0
    out = capsys.readouterr().out
    assert "# once hot (its 64th call), the whole program runs as one native function:" in out
    assert "def program(" in out and "def program_packed(p, dims):" in out
    if blas.gemm() is not None:     # its five matmuls call BLAS, whose address dims carries
        assert out.count("    gemm(as_any(") >= 5 and "the address of BLAS's cblas_sgemm" in out
