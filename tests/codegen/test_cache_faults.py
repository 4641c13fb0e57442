"""Fault injection on the kernel cache: no call ever fails or returns a different number.

One small compiled step (a few loop kernels, each with a machine-code entry) runs in a fresh
process against a cache that is damaged in every way we could think of: files truncated,
corrupted, swapped onto each other, deleted while being read, not UTF-8, from another
stepjit version; the directory read-only (with HOME read-only too, so Numba has nowhere to
cache), impossible to create (a path under a regular file, /proc); two and four processes
compiling into one empty cache at once. Each run's losses and weights must equal, bit for
bit, those of a run on a clean cache. Subprocesses are slow, so the faults are grouped into
few runs, and every run shares the program's kernels through the cache populated once.

A read-only filesystem is simulated inside the worker (tests run as root in CI, where file
modes do not stop writes): with RO_DIRS set, every write, create, rename, delete or mkdir
under those directories raises EROFS, as a read-only mount would.
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time

import pytest

WORKER = textwrap.dedent("""
    import builtins, errno, json, os, sys, warnings
    ro = [os.path.abspath(p) for p in os.environ.get("RO_DIRS", "").split(":") if p]
    if ro:
        def blocked(p):
            p = os.path.abspath(os.fsdecode(p)) if not isinstance(p, int) else ""
            return any(p == r or p.startswith(r + os.sep) for r in ro)
        def refuse(p):
            raise OSError(errno.EROFS, "Read-only file system", p)
        real = {n: getattr(os, n) for n in ("mkdir", "replace", "rename", "remove", "unlink", "rmdir")}
        def guard(name):
            def fn(p, *a, **k):
                if blocked(p) or (a and name in ("replace", "rename") and blocked(a[0])):
                    refuse(p)
                return real[name](p, *a, **k)
            return fn
        for n in real:
            setattr(os, n, guard(n))
        real_open, real_bopen = os.open, builtins.open
        def os_open(p, flags, *a, **k):
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and blocked(p):
                refuse(p)
            return real_open(p, flags, *a, **k)
        def b_open(p, mode="r", *a, **k):
            if not isinstance(p, int) and any(c in mode for c in "wax+") and blocked(p):
                refuse(p)
            return real_bopen(p, mode, *a, **k)
        os.open, builtins.open = os_open, b_open
    warnings.simplefilter("always")
    import numpy as np, stepjit as torch
    w = torch.tensor([[0.5, -0.25], [0.125, 1.0], [-1.0, 0.75]], requires_grad=True)

    @torch.compile(backend="cpu")
    def step(x, y):
        loss = ((x @ w).tanh() - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss

    x = torch.tensor([[0.1, 0.2, 0.3], [-0.5, 0.25, 1.0]])
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    losses = [repr(step(x, y).item()) for _ in range(3)]
    print(json.dumps({"losses": losses, "w": [repr(v) for v in w.detach().numpy().ravel()]}))
""")


def run(cache, env=None, check=True, cwd=None):
    full = dict(os.environ, STEPJIT_CACHE_DIR=str(cache), **(env or {}))
    full.pop("NUMBA_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "-c", WORKER], env=full, capture_output=True, text=True,
                         timeout=300, cwd=cwd)
    if check:
        assert out.returncode == 0, out.stderr[-3000:]
    return out


def result(out):
    return json.loads(out.stdout.strip().splitlines()[-1])


def start(cache, env=None):
    full = dict(os.environ, STEPJIT_CACHE_DIR=str(cache), **(env or {}))
    return subprocess.Popen([sys.executable, "-c", WORKER], env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc):
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-3000:]
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """(clean cache directory, the clean run's result)."""
    cache = tmp_path_factory.mktemp("clean")
    want = result(run(cache))
    assert result(run(cache)) == want       # warm: loaded from the cache, same bits
    return cache, want


def copy_of(populated, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(populated[0], cache)
    return cache


def files(cache, suffix):
    out = []
    for root, _, names in os.walk(cache):
        out += [os.path.join(root, n) for n in sorted(names) if n.endswith(suffix)]
    return sorted(out)


def test_swapped_files_and_foreign_sources_are_rebuilt(populated, tmp_path):
    cache = copy_of(populated, tmp_path)
    entries, modules = files(cache, ".entry"), files(cache, ".py")
    # two entries of one signature digest renamed onto each other: each still passes its own
    # checksum, and only the header's symbol and source digest say it is the wrong kernel
    by_digest = {}
    for e in entries:
        by_digest.setdefault(e.rsplit(".", 2)[-2], []).append(e)
    a, b = next(v for v in by_digest.values() if len(v) >= 2)[:2]
    os.rename(a, a + ".swap")
    os.rename(b, a)
    os.rename(a + ".swap", b)
    with open(modules[0], "ab") as f:             # a kernel source that is not UTF-8
        f.write(b"\n# \xff\xfe not utf-8\n")
    os.rename(modules[1], modules[1] + ".x")      # another kernel's source in its place
    shutil.copy(modules[0], modules[1])
    for nbc in files(cache, ".nbc")[:2]:        # Numba's machine code, truncated
        open(nbc, "wb").close()
    assert result(run(cache)) == populated[1]
    assert result(run(cache)) == populated[1]     # and what was rebuilt is good


def test_truncated_corrupt_and_stale_entries_are_not_run(populated, tmp_path):
    cache = copy_of(populated, tmp_path)
    truncated, corrupt, stale = files(cache, ".entry")[:3]
    with open(truncated, "r+b") as f:
        f.truncate(os.path.getsize(truncated) // 2)
    data = bytearray(open(corrupt, "rb").read())   # bytes flipped in the object code
    data[-100:-90] = bytes(x ^ 0xFF for x in data[-100:-90])
    open(corrupt, "wb").write(bytes(data))
    magic, header, obj = open(stale, "rb").read().split(b"\n", 2)
    h = json.loads(header)                         # another stepjit version's entry
    h["env"]["stepjit"] = "0.0.0-stale"
    open(stale, "wb").write(b"\n".join([magic, json.dumps(h, sort_keys=True).encode(), obj]))
    assert result(run(cache)) == populated[1]
    for path in (truncated, corrupt, stale):       # rebuilt whole, for this version
        data = open(path, "rb").read()
        assert b'"0.0.0-stale"' not in data
    assert result(run(cache)) == populated[1]


def test_read_only_cache_with_read_only_home(populated, tmp_path):
    import stepjit
    cache = copy_of(populated, tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    os.remove(files(cache, ".entry")[0])          # one kernel needs Numba, which cannot cache
    with open(files(cache, ".py")[0], "a") as f:   # and one source must be written again
        f.write("# stale\n")
    package = os.path.dirname(stepjit.__file__)
    env = {"HOME": str(home), "XDG_CACHE_HOME": "", "RO_DIRS": f"{cache}:{home}:{package}"}
    # with XDG_CACHE_HOME empty, Numba's user-wide cache is ./numba: keep it out of the checkout
    out = run(cache, env, cwd=tmp_path)
    assert result(out) == populated[1]
    assert out.stderr.count("cannot be written") == 1, out.stderr
    assert "no locator" not in out.stderr


def test_uncreatable_cache_directory_runs_without_disk_cache(populated, tmp_path):
    (tmp_path / "file").write_text("a regular file")
    out = run(tmp_path / "file" / "cache")
    assert result(out) == populated[1]
    assert out.stderr.count("RuntimeWarning") == 1 and "cannot be written" in out.stderr


def test_writes_under_proc_go_to_a_private_directory(monkeypatch):
    from stepjit.codegen import diskcache
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc")
    monkeypatch.setattr(diskcache, "_PRIVATE", {})
    monkeypatch.setenv("STEPJIT_CACHE_DIR", "/proc/self/stepjit-cache")
    with pytest.warns(RuntimeWarning, match="cannot be written"):
        path = diskcache.write_atomic(os.path.join(diskcache.kernel_dir(), "k_x.py"), "x = 1\n")
    assert open(path).read() == "x = 1\n" and not path.startswith("/proc")
    assert diskcache.kernel_dir() == os.path.dirname(path)
    import warnings
    with warnings.catch_warnings():     # one warning per process
        warnings.simplefilter("error")
        diskcache.write_atomic(os.path.join(diskcache.kernel_dir(), "k_y.py"), "y = 2\n")


@pytest.mark.parametrize("n", [2, 4])
def test_processes_compiling_into_one_empty_cache(populated, tmp_path, n):
    cache = tmp_path / "empty"
    procs = [start(cache) for _ in range(n)]
    for p in procs:
        assert finish(p) == populated[1]
    assert result(run(cache)) == populated[1]


def test_files_deleted_while_a_process_reads_them(populated, tmp_path):
    cache = copy_of(populated, tmp_path)
    proc = start(cache)
    stop = threading.Event()

    def delete():   # every file, again and again, while the process loads and runs them
        while not stop.is_set():
            for path in files(cache, "") if os.path.isdir(cache) else ():
                try:
                    os.remove(path)
                except OSError:
                    pass
            time.sleep(0.002)

    t = threading.Thread(target=delete)
    t.start()
    try:
        assert finish(proc) == populated[1]
    finally:
        stop.set()
        t.join()
