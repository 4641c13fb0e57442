"""A native program built by the helper process (codegen/compile_helper.py: start_program): the
helper starts when the program is built, the promoted program runs on interpreted while the
helper works, then runs natively on what the helper stored, compiling nothing of it in this
process; its results match eager at every step; with its interpreted runs spent, the program
waits for the helper's build rather than compile it at the same time."""
import os
import subprocess
import threading

import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import compile_helper, kernels
from stepjit.runtime.compiled import HOT_REUSE
from stepjit.runtime.tree import clear_programs, settling as tree_settling

N, D = 40, 40


def _make():
    r = np.random.default_rng(11)
    x = torch.tensor(r.standard_normal((N, D)).astype(np.float32))
    y = torch.tensor(r.integers(0, D, N))
    w = torch.tensor((r.standard_normal((D, D)) * 0.3).astype(np.float32), requires_grad=True)

    def step(x, y):
        loss = torch.nn.functional.cross_entropy(torch.tanh(x @ w) * 2.0, y)
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss
    return step, x, y, w


@pytest.fixture(scope="module")
def helped(tmp_path_factory):
    """A compiled step run past its promotion while the helper builds its native program, then
    once the helper is done; with eager's losses and weights over the same steps."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("no helper on one core")
    calls = HOT_REUSE + 8
    step, x, y, w = _make()
    eager = [(step(x, y).item(), w.detach().numpy().copy()) for _ in range(calls + 2)]
    out = {}
    saved = dict(kernels._KERNELS)     # kernels of this test's own, as fresh_kernels gives
    kernels._KERNELS.clear()
    with pytest.MonkeyPatch.context() as mp:
        for name in ("STEPJIT_FIRST_CALL", "STEPJIT_NATIVE"):   # the default: native when hot
            mp.delenv(name, raising=False)
        mp.setenv("STEPJIT_COMPILE_HELPER", "always")
        mp.setenv("STEPJIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        mp.setattr(compile_helper, "PROGRAM_MIN_KERNELS", 0)     # a small program: its kernels inline
        clear_programs()
        step, x, y, w = _make()
        fn = torch.compile(step, backend="cpu")
        got = [(fn(x, y).item(), w.detach().numpy().copy()) for _ in range(calls)]
        program = fn.roots[-1].program.unwrapped()
        out["helper"] = compile_helper._HELPER[-1] if compile_helper._HELPER else None
        out["promoted, building"] = (program.native, program.building)
        out["settling"] = [tree_settling()]
        ready = []
        mp.setattr(program, "_go_native", lambda: (ready.append(1), type(program)._go_native(program)))
        out["helper"].wait(timeout=600)
        before = dict(kernels.STATS)
        got.append((fn(x, y).item(), w.detach().numpy().copy()))
        out["stats"] = {k: kernels.STATS[k] - before[k] for k in ("compiled", "loaded")}
        got.append((fn(x, y).item(), w.detach().numpy().copy()))
        out["program"], out["ready"], out["fast"] = program, ready, fn.fast_sources()
        out["settling"].append(tree_settling())
        mark = compile_helper.program_job(program.helped)["entry"]
        out["marked"] = os.path.exists(mark)
    clear_programs()
    kernels._KERNELS.clear()
    kernels._KERNELS.update(saved)
    return out, got, eager


def test_promoted_program_runs_interpreted_while_the_helper_builds(helped):
    out, _, _ = helped
    assert out["helper"] is not None, "no helper was started when the program was built"
    native, building = out["promoted, building"]
    assert native is None and building is not None
    # (what benchmarks/workloads.py's time to steady state waits for: on, then off)
    assert out["settling"] == [True, False]


def test_program_goes_native_on_what_the_helper_stored(helped):
    out, _, _ = helped
    assert out["marked"] and out["ready"] == [1]
    assert out["program"].native is not None and out["program"].building is None
    assert out["stats"]["compiled"] == 0 and out["stats"]["loaded"] >= 1   # loaded, not compiled
    assert "NATIVE" in out["fast"][0]           # the fast call was rebuilt to call it directly


def test_results_match_eager_at_every_step(helped):
    _, got, eager = helped
    for (loss, w), (loss_eager, w_eager) in zip(got, eager, strict=True):
        np.testing.assert_allclose(loss, loss_eager, rtol=1e-5)
        np.testing.assert_allclose(w, w_eager, rtol=1e-5, atol=1e-6)


def test_before_program_waits_for_the_helpers_build(tmp_path):
    """With its interpreted runs spent, the program's compile waits for the build its helper
    holds (the mark appears), then ends the helper: it never compiles the program alongside."""
    kernel = kernels.Kernel("p_test", "", False, "program_packed")
    kernel.path = str(tmp_path / "p_test.py")
    whole = compile_helper.program_job(kernel)
    fake = subprocess.Popen(["sleep", "60"])      # stands for a helper still compiling
    compile_helper._HELPER.append(fake)
    compile_helper._PROGRAMS[kernel.path] = [whole]
    assert compile_helper.building(kernel)
    timer = threading.Timer(0.3, compile_helper._mark, [whole["entry"]])
    timer.start()
    try:
        compile_helper.before_program(kernel, {})
    finally:
        timer.cancel()
        compile_helper.finish()
    assert os.path.exists(whole["entry"]) and fake.poll() is not None
    assert not compile_helper.building(kernel) and kernel.path not in compile_helper._PROGRAMS


def _program_text(loops):
    """A native program module's text calling `loops` distinct loop kernels."""
    defs = "".join(f"@njit(cache=True, no_cpython_wrapper=True)\ndef loop{k}(a0, o0, n0):\n"
                   "    pass\n" for k in range(loops))
    calls = "".join(f"    loop{k}(i0, w0, dims[0])\n" for k in range(loops))
    return (defs + "@njit(cache=True)\ndef program_packed(p, dims):\n"
            "    i0 = array_at(p, 0, (dims[0], ), np.float32)\n"
            "    w0 = array_at(p, 1, (dims[0], ), np.float32)\n" + calls)


@pytest.mark.parametrize("loops", [compile_helper.PROGRAM_MIN_KERNELS - 1,
                                   compile_helper.PROGRAM_MIN_KERNELS])
def test_helper_gets_the_kernels_last_first_then_the_program(loops, tmp_path, monkeypatch):
    """From PROGRAM_MIN_KERNELS kernels a helper starts (whatever the load), on the kernels not
    marked, last first, and the program last; a program marked built starts none."""
    monkeypatch.setattr(compile_helper, "_load", lambda: 50.0)       # a busy machine
    monkeypatch.setattr(compile_helper.os, "cpu_count", lambda: 2)
    monkeypatch.delenv("STEPJIT_COMPILE_HELPER", raising=False)
    spawned = []
    monkeypatch.setattr(compile_helper, "_spawn", spawned.append)
    kernel = kernels.Kernel("p_0", _program_text(loops), False, "program_packed")
    kernel.path = str(tmp_path / "p_0.py")
    jobs = compile_helper.program_jobs(kernel)
    compile_helper._mark(jobs[0]["entry"])         # loop0 built by an earlier process
    try:
        compile_helper.start_program(kernel)
    finally:
        compile_helper._PROGRAMS.pop(kernel.path, None)
    if loops < compile_helper.PROGRAM_MIN_KERNELS:
        assert spawned == []
        return
    [todo] = spawned
    assert [j["function"] for j in todo] == [f"loop{k}" for k in range(loops - 1, 0, -1)] + [
        "program_packed"]
    assert todo[-1]["program"] and todo[-1]["sig"] == compile_helper.PACKED_SIGNATURE
    compile_helper._mark(todo[-1]["entry"])        # the program built: no helper again
    spawned.clear()
    compile_helper.start_program(kernel)
    assert spawned == []


_ADDING = ("@njit(cache=True, no_cpython_wrapper=True)\ndef loop{k}(a0, o0, n0):\n"
           "    for i in range(n0):\n        o0[i] += a0[i] * {w}\n")


def test_helper_compiles_a_program_that_returns_nothing_into_its_entry(tmp_path, monkeypatch):
    """The helper's build of a program that returns nothing takes the entry-first path
    (kernels.ProgramKernel): its entry is stored, nothing of program_packed in Numba's cache
    (the CPython-wrapped compile would put it there); this process's first call loads that
    entry and computes what NumPy does, and so does a compile that waited for the helper (its
    interpreted runs spent), rather than compile the program again."""
    from stepjit.codegen import machine_cache
    if not machine_cache.available():
        pytest.skip("no machine-code entries here")
    monkeypatch.setenv("STEPJIT_CACHE_DIR", str(tmp_path))
    loops = 4
    loop_defs = "".join(_ADDING.format(k=k, w=k + 1) for k in range(loops))
    text = "from stepjit.codegen.pointers import array_at\n" + loop_defs + (
        "@njit(cache=True)\ndef program_packed(p, dims):\n"
        "    i0 = array_at(p, 0, (dims[0], ), np.float64)\n"
        "    w0 = array_at(p, 1, (dims[0], ), np.float64)\n"
        + "".join(f"    loop{k}(i0, w0, dims[0])\n" for k in range(loops)))
    kernel, _ = kernels.get_module_function(text, "program_packed", entry_first=True)
    compile_helper._write_module(kernel)
    job = compile_helper.program_job(kernel)
    assert job["entry_first"]
    compile_helper._build(job)
    entry = machine_cache.entry_path(kernel.path, compile_helper.PACKED_SIGNATURE,
                                     "program_packed")
    assert os.path.exists(job["entry"]) and os.path.exists(entry)
    assert "program_packed" not in compile_helper._numba_cached(kernel)
    x = np.arange(5.0)
    expected = 1.0 + x * sum(range(1, loops + 1))
    # the first call; then a compile that waited for the helper (before_program) takes its entry
    fresh = kernels.ProgramKernel(kernel.fname, kernel.text, False, "program_packed")
    for call in (kernel, lambda *a: fresh._compile_first(a, compile_helper.PACKED_SIGNATURE)):
        w = np.ones(5)
        before = dict(kernels.STATS)
        call(np.array([x.ctypes.data, w.ctypes.data], np.int64), np.array([5], np.int64))
        assert kernels.STATS["loaded"] == before["loaded"] + 1
        assert kernels.STATS["compiled"] == before["compiled"]
        np.testing.assert_array_equal(w, expected)


def test_helper_compiles_a_program_given_its_results_arrays_into_its_entry(tmp_path, monkeypatch):
    """A program given arrays for its results (r0, ...: native_program.ProgramSource.given)
    returns nothing: the helper reads the loop kernel writing into r0 with r0's signature, and
    builds the program into its entry for the signature of its calls (p, r0, dims), which this
    process's first call, given a new array, loads and runs as NumPy computes."""
    from stepjit.codegen import machine_cache
    if not machine_cache.available():
        pytest.skip("no machine-code entries here")
    monkeypatch.setenv("STEPJIT_CACHE_DIR", str(tmp_path))
    text = "from stepjit.codegen.pointers import array_at\n" + _ADDING.format(k=0, w=2) + (
        "@njit(cache=True)\ndef program_packed(p, r0, dims):\n"
        "    i0 = array_at(p, 0, (dims[0], ), np.float64)\n"
        "    v0 = r0\n"
        "    v0[...] = 1.0\n"
        "    loop0(i0, v0, dims[0])\n"
        "    return ()\n")
    kernel, _ = kernels.get_module_function(text, "program_packed", entry_first=True)
    given = [("float64", 1)]
    jobs = compile_helper.program_jobs(kernel, given)
    assert [(j["function"], j["sig"]) for j in jobs] == [
        ("loop0", (("float64", 1, "C", True), ("float64", 1, "C", True), "i"))]
    compile_helper._write_module(kernel)
    job = compile_helper.program_job(kernel, given)
    compile_helper._build(job)
    x, out, dims = np.arange(5.0), np.empty(5), np.array([5], np.int64)
    p = np.array([x.ctypes.data], np.int64)
    assert job["sig"] == machine_cache.signature([p, out, dims])
    assert os.path.exists(machine_cache.entry_path(kernel.path, job["sig"], "program_packed"))
    before = dict(kernels.STATS)
    kernel(p, out, dims)
    assert kernels.STATS["loaded"] == before["loaded"] + 1
    assert kernels.STATS["compiled"] == before["compiled"]
    np.testing.assert_array_equal(out, 1.0 + 2 * x)


def test_no_helper_for_a_program_whose_entry_is_stored(tmp_path, monkeypatch):
    """A program compiled entry-first where no helper ran leaves its entry and no mark: a later
    process loads that entry, and starts no helper to build the program again."""
    from stepjit.codegen import machine_cache
    monkeypatch.setattr(compile_helper.os, "cpu_count", lambda: 2)
    monkeypatch.delenv("STEPJIT_COMPILE_HELPER", raising=False)
    spawned = []
    monkeypatch.setattr(compile_helper, "_spawn", spawned.append)
    kernel = kernels.Kernel("p_1", _program_text(compile_helper.PROGRAM_MIN_KERNELS), False,
                            "program_packed")
    kernel.path = str(tmp_path / "p_1.py")
    entry = machine_cache.entry_path(kernel.path, compile_helper.PACKED_SIGNATURE,
                                     "program_packed")
    compile_helper._mark(entry)         # (its contents are not read here)
    compile_helper.start_program(kernel)
    assert spawned == [] and kernel.path not in compile_helper._PROGRAMS


@pytest.mark.parametrize("start_seconds, helped", [(1e9, False), (0.0, True)])
def test_helper_only_where_interpreted_runs_hide_its_start(start_seconds, helped, monkeypatch):
    """By default a native program's helper is decided on after its first interpreted runs
    (cpu.TIMED_RUNS): it starts where those runs until the promotion take at least the
    helper's start (HELPER_START_SECONDS), and not where the main process would have the
    program compiled sooner (a cheap step: it then compiles at its promotion)."""
    from stepjit.programs import cpu
    for name in ("STEPJIT_FIRST_CALL", "STEPJIT_NATIVE", "STEPJIT_COMPILE_HELPER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(compile_helper.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(compile_helper, "_load", lambda: 0.0)      # a core idle
    monkeypatch.setattr(compile_helper, "HELPER_START_SECONDS", start_seconds)
    started = []
    monkeypatch.setattr(compile_helper, "start_program",
                        lambda k, given=(): started.append(k) or False)
    step, x, y, w = _make()
    eager = [step(x, y).item() for _ in range(8)]
    clear_programs()
    step, x, y, w = _make()
    fn = torch.compile(step, backend="cpu")
    got = []
    while not (fn.roots and fn.roots[-1].program):   # (a trace's first call is interpreted; its
        got.append(fn(x, y).item())                   # second builds the program, run once)
    program = fn.roots[-1].program.unwrapped()
    for _ in range(cpu.TIMED_RUNS - 1):
        assert started == [] and program.timed_runs is not None     # not decided yet
        got.append(fn(x, y).item())
    clear_programs()
    assert program.timed_runs is None and program.native is None
    assert [k.function for k in started] == (["program_packed"] if helped else [])
    np.testing.assert_allclose(got, eager[:len(got)], rtol=1e-5)
