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


def _tutorial_dump(stage, capsys):
    """`stepjit dump --stage STAGE` of the tutorial example, and the compiled step it ran."""
    import os

    from stepjit.runtime import log
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "two_layer_net.py")
    seen = []

    def listener(compiled, event):
        seen.append(compiled)

    log.add_listener(listener)
    try:
        assert main(["dump", example, "--steps", "3", "--stage", stage]) == 0
    finally:
        log.remove_listener(listener)
    return capsys.readouterr().out, seen[0]


def test_dump_kernels_are_byte_for_byte_the_kernels_the_tutorial_step_ran(capsys):
    import re

    from stepjit.codegen import kernels
    from stepjit.programs.cpu import LoopStep
    from stepjit.cli.dump import kernel_body
    out, compiled = _tutorial_dump("kernels", capsys)
    sections = out.split("## step: trace ")[1:]
    traces = compiled.traces
    assert len(sections) == len(traces) == 2       # .grad None on the first call, then not
    for section, trace in zip(sections, traces):
        pieces = re.split(r"^# (?:group \d+: (\w+)\(.*\)|once hot.*)\n", section, flags=re.M)
        shown = [(name, body.rstrip("\n")) for name, body in zip(pieces[1::2], pieces[2::2]) if name]
        ran = [(st.kernel, st.source) for tr, program in compiled.programs.values() if tr is trace
               for st in program.steps if isinstance(st, LoopStep)]
        assert len(ran) == 5
        assert shown == [(kernel.fname, kernel_body(source).rstrip("\n")) for kernel, source in ran]
        for kernel, source in ran:
            assert kernel.fastest() is not kernel               # it ran
            # Structurally equal kernels (w1's and w2's update; the two traces') are one
            # kernel, compiled from the text of the graph that asked first: the same code,
            # its comments naming that graph's values.
            assert kernels._COMMENT.sub("", kernel.text) == kernels._COMMENT.sub("", source)
        # The SGD updates run in place: w1's kernel stores the new w1 through w1's own buffer.
        assert re.search(r"^# group \d+: k_\w+\(.*out %\w+ into %w1\b", section, flags=re.M)


def test_dump_optimized_names_every_rewrite_that_ran(capsys):
    out, compiled = _tutorial_dump("optimized", capsys)
    for _, program in compiled.programs.values():
        ran = program.record.graph_stage_names()[1:]      # after "traced"
        assert ran[:3] == ["lower", "scatter-sums", "add-chains"]
        assert ran[-6:] == ["dce", "cse", "fold", "simplify", "cse", "dce"]
        assert f"# stage: optimized ({', '.join(ran)})" in out
