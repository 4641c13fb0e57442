"""torch.profiler.schedule and a profile driven by it, against PyTorch's recorded actions and
the steps at which it called on_trace_ready (tests/fixtures/record_profiler.py)."""
import json
import warnings
from pathlib import Path

import pytest

import stepjit as torch

CASES = json.loads((Path(__file__).parent / "fixtures" / "profiler" /
                    "torch_schedule.json").read_text())


def _schedule(case):
    wait, warmup, active, repeat, skip, skip_wait = case["schedule"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.profiler.schedule(wait=wait, warmup=warmup, active=active, repeat=repeat,
                                       skip_first=skip, skip_first_wait=skip_wait)


@pytest.mark.parametrize("case", CASES, ids=lambda c: str(c["schedule"]))
def test_actions_and_trace_ready_steps_match_pytorch(case):
    fn = _schedule(case)
    assert [fn(i) for i in range(len(case["actions"]))] == case["actions"]
    ready, kept = [], []

    def on_ready(p):
        ready.append(p.step_num)
        kept.append(sum(e.name == "add" for e in p.events))

    with torch.profiler.profile(schedule=fn, on_trace_ready=on_ready) as p:
        for _ in range(case["steps"]):
            torch.ones(2) + 1
            p.step()
    assert ready == case["ready_at"]
    # each handed-over cycle holds the ops of its recorded steps only
    cycles, n = [], 0
    for a in case["actions"][:case["steps"]]:
        n += a in ("RECORD", "RECORD_AND_SAVE")
        if a == "RECORD_AND_SAVE":
            cycles.append(n)
            n = 0
    if len(ready) > len(cycles):      # (stopped inside a cycle: it is handed over at stop)
        cycles.append(n)
    assert kept == cycles


def test_bad_schedule_and_warmup_warning():
    with pytest.raises(AssertionError, match="active=0"):
        torch.profiler.schedule(wait=0, warmup=1, active=0)
    with pytest.warns(UserWarning, match="warmup"):
        torch.profiler.schedule(wait=1, warmup=0, active=1)


def test_tensorboard_trace_handler_writes_one_trace_per_cycle(tmp_path):
    fn = _schedule({"schedule": [1, 1, 2, 2, 0, 0]})
    with torch.profiler.profile(schedule=fn, on_trace_ready=torch.profiler
                                .tensorboard_trace_handler(str(tmp_path), "w0")) as p:
        for _ in range(10):
            torch.ones(3).sum()
            p.step()
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2 and all(f.name.startswith("w0.") and f.name.endswith(".pt.trace.json")
                                   for f in files)
    names = [e["name"] for e in json.loads(files[0].read_text())["traceEvents"]]
    assert names.count("sum") == 2


def test_no_schedule_records_every_step_and_hands_over_at_stop():
    seen = []
    with torch.profiler.profile(on_trace_ready=lambda p: seen.append(len(p.events))) as p:
        for _ in range(3):
            torch.ones(2) * 2
            p.step()
    assert seen and sum(e.name == "mul" for e in p.events) == 3


def test_module_constants():
    import math
    assert (torch.inf, torch.pi, torch.e, torch.newaxis) == (math.inf, math.pi, math.e, None)
    assert math.isnan(torch.nan)
    x = torch.zeros(2, 2).masked_fill(torch.eye(2).bool(), -torch.inf)
    assert x[0, 0].item() == -math.inf and x[0, 1].item() == 0.0
    assert x[:, torch.newaxis].shape == (2, 1, 2)


def test_deprecated_assert_allclose_uses_the_older_tolerances():
    with pytest.warns(FutureWarning, match="deprecated"):
        torch.testing.assert_allclose(torch.tensor([1.0, float("nan")]), [1.00005, float("nan")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(AssertionError, match="not close"):
            torch.testing.assert_allclose(torch.tensor([1.0]), [1.001])
        torch.testing.assert_allclose(torch.tensor([1.0], dtype=torch.float64), [1.0 + 5e-6])
