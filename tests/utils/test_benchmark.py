"""torch.utils.benchmark's Timer, Measurement and Compare (the benchmark recipe's API). No
timing is asserted: run counts, statistics of given times against NumPy, and the table's
cells for measurements built with known times."""
import numpy as np
import pytest

import stepjit
from stepjit.utils import benchmark
from stepjit.utils.benchmark.measurement import TaskSpec


def test_timeit_runs_setup_then_a_warm_up_and_the_block_and_restores_threads():
    seen = {"setup": 0, "runs": 0}
    before = stepjit.get_num_threads()
    t = benchmark.Timer("seen['runs'] += 1", setup="seen['setup'] += 1", globals={"seen": seen},
                        num_threads=1)
    m = t.timeit(7)
    assert seen["runs"] == 1 + 7 and m.number_per_run == 7 and len(m.raw_times) == 1
    assert stepjit.get_num_threads() == before
    blocks = []
    m = t.blocked_autorange(callback=lambda n, s: blocks.append(n), min_run_time=0.001)
    assert len(m.raw_times) == len(blocks) >= 1 and set(blocks) == {m.number_per_run}
    assert "measurement" in repr(m) and "seen['runs'] += 1" in repr(m)


def test_measurement_statistics_are_per_run_times():
    raw = [0.4, 0.1, 0.3, 0.2, 1.0]
    m = benchmark.Measurement(100, raw, TaskSpec("f()", "pass"))
    per_run = np.array(raw) / 100
    assert m.times == pytest.approx(per_run.tolist())
    assert m.median == pytest.approx(np.median(per_run))
    assert m.mean == pytest.approx(per_run.mean())
    q1, q3 = np.percentile(per_run, [25, 75])
    assert m.iqr == pytest.approx(q3 - q1)
    assert "Median: 3.00 ms" in repr(m) and "5 measurements, 100 runs per measurement" in repr(m)


def test_compare_has_a_cell_per_thread_count_row_and_column():
    def made(us, threads, sub, desc):
        return benchmark.Measurement(1, [us * 1e-6], TaskSpec("s", "pass", "Batched dot", sub,
                                                               desc, None, threads))
    results = [made(1, 1, "[1, 1]", "mul/sum"), made(2, 1, "[1, 1]", "bmm"),
               made(3, 2, "[1, 1]", "mul/sum"), made(4, 2, "[1, 1]", "bmm"),
               made(5, 1, "[64, 16]", "mul/sum")]
    compare = benchmark.Compare(results)
    compare.trim_significant_figures()
    lines = str(compare).splitlines()
    assert lines[0] == "[---------- Batched dot ----------]"
    cells = [line.split() for line in lines if line.strip().startswith("[")][1:]
    assert cells == [["[1,", "1]", "1", "|", "2"], ["[64,", "16]", "5", "|"],
                     ["[1,", "1]", "3", "|", "4"]]
    assert any(line.startswith("2 threads:") for line in lines)
    assert "Times are in microseconds (us)." in lines


def test_cpp_and_callgrind_say_what_is_missing():
    with pytest.raises(NotImplementedError, match="C\\+\\+"):
        benchmark.Timer("x;", language=benchmark.Language.CPP)
    with pytest.raises(NotImplementedError, match="valgrind"):
        benchmark.Timer("pass").collect_callgrind()
