"""`python -m benchmarks.threads`: its thread limits reach Numba and OpenBLAS, its timing loop
interleaves the variants and reads both clocks, and its report divides each variant's 1-thread
wall time by its N-thread one. No timing is asserted."""
import ctypes
import time

import numpy as np
import pytest

from benchmarks import harness, threads


def _blas_functions():
    from stepjit.codegen import blas
    functions = blas.thread_functions()
    if functions is None:
        pytest.skip("no OpenBLAS found in NumPy's process")
    return functions


def test_set_threads_limits_numba_and_openblas():
    import numba
    get_blas, set_blas = _blas_functions()
    before = numba.get_num_threads(), get_blas()
    try:
        threads.set_threads(1)
        assert numba.get_num_threads() == 1 and get_blas() == 1
        threads.set_threads(64)      # at most the pool's size
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    finally:
        numba.set_num_threads(before[0])
        set_blas(before[1])


@pytest.fixture
def requested():
    """stepjit.set_num_threads's setting (and Numba's pool, which it limits), put back after."""
    import numba

    from stepjit import threads as user_threads
    before = user_threads._REQUESTED, numba.get_num_threads()
    yield user_threads
    user_threads._REQUESTED = before[0]
    numba.set_num_threads(before[1])


def test_pinned_sets_the_threads_before_each_call(monkeypatch, requested):
    seen = []
    monkeypatch.setattr(threads, "set_threads", seen.append)
    step = threads.pinned(lambda: "loss", 2)
    assert step() == "loss" and step() == "loss"
    assert seen == [2, 2] and requested._REQUESTED == 2   # stepjit's programs get 2 as well
    monkeypatch.setattr(threads, "POOL", [3])
    default = threads.pinned(lambda: requested._REQUESTED, None)
    assert default() is None and seen[-1] == 3       # stepjit's default, the pools' full size


def test_measure_interleaves_and_reads_wall_and_cpu_time():
    order = []

    def spin(name, seconds):
        def step():
            order.append(name)
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:     # CPU work: CPU time grows with wall time
                pass
        return step
    out = threads.measure({"a": spin("a", 0.002), "b": spin("b", 0.001)}, reps=4, inner=2,
                          warmup=1)
    assert order[:2] == ["a", "b"]                          # warm-up
    timed = order[2:]
    firsts = [timed[k] for k in range(0, len(timed), 4)]   # each repetition's first variant
    assert firsts == ["a", "b", "a", "b"]                   # the order rotates
    for wall, cpu in out.values():
        assert len(wall) == len(cpu) == 4
        assert all(w > 0 and c > 0 for w, c in zip(wall, cpu))
    assert np.median(out["a"][0]) > np.median(out["b"][0])


def test_report_gives_each_variant_its_speedup(capsys):
    figures = {"stepjit compile, 1 thread": ([0.010] * 3, [0.010] * 3),
               "stepjit compile, 2 threads": ([0.005] * 3, [0.009] * 3),
               "numpy, 1 thread": ([0.020] * 3, [0.020] * 3),
               "numpy, 2 threads": ([0.025] * 3, [0.040] * 3)}
    threads.report("adam_10m", figures, 2)
    rows = {line.split("  ")[1].strip(): line.split() for line in
            capsys.readouterr().out.splitlines()[2:]}
    assert rows["stepjit compile, 2 threads"][-1] == "2.00x"
    assert rows["stepjit compile, 2 threads"][-2] == "1.80"        # cores: CPU / wall
    assert rows["numpy, 2 threads"][-1] == "0.80x"
    assert rows["numpy, 1 thread"][-1] == "1.00x"


def test_harness_times_by_process_cpu_time():
    calls = []
    case = harness.Case(name="spin", description="", baseline="a", variants=[
        harness.Variant("a", lambda: (lambda: calls.append(1) or _Loss()))])
    result = harness.run_case(case, reps=3, inner=2, warmup=1, clock="process")
    assert harness.CLOCKS["process"] is time.process_time
    assert len(result.timings[0].seconds) == 3 and len(calls) == 1 + 1 + 6


class _Loss:
    def item(self):
        return 1.0
