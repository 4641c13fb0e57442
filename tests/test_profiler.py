"""stepjit.profiler against what it claims: eager ops with shapes and the user's line,
autograd nodes, record_function ranges, compiled phases, self times that add up, a Chrome trace
in the Trace Event Format, and nothing recorded (and fast calls back) once it stops."""
import json

import numpy as np
import pytest

import stepjit as torch
from stepjit import profiler


def _names(prof, cat=None):
    return [e.name for e in prof.events if cat is None or e.cat == cat]


def test_eager_ops_autograd_nodes_and_ranges():
    x = torch.randn(8, 4)
    w = torch.randn(4, 3, requires_grad=True)
    with profiler.profile(record_shapes=True, with_stack=True) as prof:
        with profiler.record_function("my step"):
            loss = (x @ w).relu().sum()
            loss.backward()
    ops = [e for e in prof.events if e.cat == "op"]
    mm = next(e for e in ops if e.name == "matmul")
    assert mm.args["shapes"] == [[8, 4], [4, 3]] and mm.args["dtypes"] == ["float32"] * 2
    assert mm.args["line"].startswith("test_profiler.py:")
    assert {"relu", "sum"} <= set(_names(prof, "op"))
    assert {"SumBackward0", "ReluBackward0", "MmBackward0", "AccumulateGrad"} <= \
        set(_names(prof, "autograd"))
    step = next(e for e in prof.events if e.name == "my step")
    inner = [e for e in prof.events if e is not step]
    assert all(step.start <= e.start and e.end <= step.end for e in inner)
    # self times partition the range's duration: nothing counted twice or lost
    assert sum(e.self_time for e in prof.events) == step.dur
    np.testing.assert_allclose(w.grad.numpy(), x.numpy().T @ (x.numpy() @ w.detach().numpy() > 0))


def test_shapes_and_lines_only_when_asked():
    with profiler.profile() as prof:
        torch.ones(2, 3) * 2
    assert all("shapes" not in e.args and "line" not in e.args for e in prof.events)


def test_table_rows_and_sorting():
    with profiler.profile() as prof:
        for _ in range(3):
            torch.ones(2) + 1
    rows = {r.key: r for r in prof.key_averages()}
    assert rows["add"].count == 3 and rows["full"].count == 3
    table = prof.key_averages().table(sort_by="count", row_limit=5)
    assert table.splitlines()[0].split()[:2] == ["Name", "Category"] and "add" in table
    with pytest.raises(ValueError, match="sort_by"):
        prof.key_averages().table(sort_by="flops")


def _two_layer():
    torch.manual_seed(0)
    x, y = torch.randn(16, 8), torch.randn(16, 2)
    w1 = torch.randn(8, 6, requires_grad=True)
    w2 = torch.randn(6, 2, requires_grad=True)

    def step(x, y):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1.sub_(1e-3 * w1.grad)
            w2.sub_(1e-3 * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
        return loss
    return torch.compile(step), x, y


def test_compiled_phases_then_fast_calls(tmp_path):
    step, x, y = _two_layer()
    with profiler.profile() as prof:
        for _ in range(4):
            step(x, y)
    names = _names(prof)
    assert names.count("compiled call _two_layer.<locals>.step") == 4
    for phase in ("trace _two_layer.<locals>.step", "pass dce", "pass simplify", "fuse", "codegen", "build program",
                  "write-back"):
        assert phase in names, (phase, sorted(set(names)))
    assert any(n.startswith("run CpuProgram") for n in names)
    run = next(e for e in prof.events if e.name.startswith("run CpuProgram"))
    kernels = run.args["kernels"]     # each group: a loop kernel and its IR values, or an op
    assert any(k.startswith("op %") and "matmul" in k for k in kernels), kernels
    assert any(" (%" in k and "clamp" in k for k in kernels), kernels
    calls = [e for e in prof.events if e.name.startswith("compiled call")]
    assert sum(e.dur for e in calls) == sum(e.self_time for e in prof.events
                                           if any(c.start <= e.start and e.end <= c.end
                                                  for c in calls))
    path = prof.export_chrome_trace(str(tmp_path / "trace.json"))
    check_trace_event_format(json.load(open(path)))
    # once hot, a profiled call runs its fast call, recorded as one event
    for _ in range(70):
        step(x, y)
    with profiler.profile() as prof:
        step(x, y)
    assert "fast call (guards, program, write-back)" in _names(prof)
    assert step._first is not step._profiled_call      # the fast call is back after the profile


def test_off_records_nothing():
    step, x, y = _two_layer()
    with profiler.profile() as prof:
        pass
    step(x, y)
    torch.ones(3).sum()
    assert prof.events == [] and profiler.STATE.active is None


def check_trace_event_format(trace):
    """The JSON object form of the Trace Event Format (what Perfetto and chrome://tracing
    load): traceEvents, each with name, ph, pid, tid; complete events ('X') with numeric
    microsecond ts and dur >= 0; metadata events ('M') with args.name."""
    assert isinstance(trace, dict) and isinstance(trace["traceEvents"], list)
    assert trace.get("displayTimeUnit", "ms") in ("ms", "ns")
    for ev in trace["traceEvents"]:
        assert isinstance(ev["name"], str) and ev["ph"] in ("X", "M")
        assert isinstance(ev["pid"], int) and isinstance(ev["tid"], int)
        if ev["ph"] == "X":
            assert isinstance(ev["ts"], (int, float)) and ev["ts"] >= 0
            assert isinstance(ev["dur"], (int, float)) and ev["dur"] >= 0
            assert isinstance(ev.get("cat", ""), str) and isinstance(ev.get("args", {}), dict)
        else:
            assert isinstance(ev["args"]["name"], str)
    json.dumps(trace)    # nothing that JSON cannot hold
