"""Compiling a program's loop kernels on a second core, in a helper process.

A CPU program that is not one native function (programs/cpu.py) compiles its loop kernels at
its first compiled run, one after another as the run reaches them: 0.1-1 s each, 20-40 of
them in a CNN or a transformer step. Numba compiles under one lock per process, so threads
would not overlap them; a second process does. Before that run, the program finds the
argument signature each kernel's first call will have (`predict` in programs/cpu.py) and,
when enough kernels have no machine-code entry yet (MIN_KERNELS), starts this module as a
helper process with the list. The helper takes the kernels from the end of the run, the
program from the start; each compiles a kernel and builds its machine-code entry
(codegen/machine_cache.py), the same file a warm process loads. So the disk cache is the
only channel: the program's first call of a kernel whose entry the helper stored loads it,
as a warm process would, and a kernel the helper is building right now is waited for rather
than compiled twice.

Who builds a kernel is settled by a claim file beside its entry (`<entry>.claim`, made with
O_EXCL, holding the claimant's pid, removed when done): the helper skips a kernel someone
else claimed while that process lives; the program waits only on its own helper's claims.
A signature predicted wrongly costs the helper's time, never a wrong call: the program's
own call looks for the entry of the signature it has, and compiles where there is none. The
helper stops when the program's process is gone, and the program ends it after its run.
A native program (codegen/native_program.py) is one Numba function whose loop kernels (those
it calls rather than inlines) are functions of its module that Numba compiles first (MNIST's MLP
with Adam: 9 of them, 1.3 s of CPU, beside 2.8 s for the program). The runtime promotes a
program's hot trace at its 64th reuse, and it runs interpreted until then (programs/cpu.py), so
after its first interpreted runs, where those until its promotion would hide the helper's start
(`helps_program`), `start_program` starts a helper that builds the whole program: its loop
kernels (their argument types are in the program's text, `program_jobs`: every array one it
made C-contiguous, `array_at`, `empty_array`, a workspace buffer, a reshape of one; every
size `dims[k]`), last first, then `program_packed` itself, into Numba's cache
beside the module, with its machine-code entry where it can have one. Each leaves a mark
(`<module>.<function>.<digest>.numba`) when done. The program keeps running interpreted while
the helper works, past its promotion (`building`), and goes native at its first run after the
program's mark appears, loading what the helper stored: the main process compiles nothing of it.
Only where it runs out of interpreted runs first does it stop to wait (`before_program`): it
compiles, in the program's order, the kernels nobody has marked or claimed, waits for those the
helper holds and for the program, then ends the helper; the program's compile then finds all
of it in Numba's cache. The program is never compiled in two processes at once: the main
process compiles it only where no helper is alive to do it. A kernel whose arguments the text
does not settle (a transposed or sliced view) is left to the program's compile, as is all of
it without a helper.

`STEPJIT_COMPILE_HELPER=0` turns it off, `always` starts it whatever the load average; by
default a helper starts only where the load average leaves a core idle, and never on one
core. A helper for a native program starts, by default, only where the program's interpreted
runs until its promotion take longer than the helper's start (`helps_program`): its compile
is then hidden behind them. Otherwise it saves no time (the main process compiles the program
at its promotion, sooner than a helper that must start first would have it ready) and costs
CPU: the helper's start, and the main process's import of Numba and load of what it stored.
"""
from __future__ import annotations

import atexit
import json
import os
import re
import subprocess
import sys
import time

from .. import config
from . import diskcache, machine_cache

MIN_KERNELS = 6      # fewer kernels than this compile faster than a process starts (~0.8 s)
# A native program calling fewer loop kernels than this compiles in about a helper's start (W1's,
# 3 kernels: ~1 s); from this many its compile is seconds (W2's, 4 kernels: ~3.7 s of CPU).
PROGRAM_MIN_KERNELS = 4
# CPU seconds a helper costs before it compiles anything: the process, stepjit and Numba
# imported, Numba's first compile (its registries); and the main process's load of what it
# stored (Numba imported there too, unless the program has a machine-code entry).
HELPER_START_SECONDS = 1.0
_POLL = 0.005        # seconds between looks for an entry the helper is building
_HELPER = []         # the running helper (a Popen), at most one per process
_EXIT_HOOK = []


def enabled(program=False) -> bool:
    """Start helpers? Not on one core, and, for a run's loop kernels, unless
    STEPJIT_COMPILE_HELPER=always, not while the load average leaves no core idle: there the
    helper's own start (Python, Numba's first compile, ~1 s of CPU) and the kernels it builds
    take a core from the program, which waits for them, rather than adding one (W7 at load
    12: 8.6 s of CPU with it, 7.3 s without, and no sooner). A native program's helper
    (`program`) is not held back by the load: the program runs on, interpreted, meanwhile."""
    mode = config.compile_helper()
    cores = os.cpu_count() or 1
    if mode == "0" or cores < 2:
        return False
    return mode == "always" or program or _load() < cores - 0.5


def helps_program(interpreted_seconds) -> bool:
    """Start a helper on a native program whose interpreted runs until its promotion take
    `interpreted_seconds` of CPU? Where they take less than the helper's start, the program
    compiles at its promotion in this process, sooner and with less CPU: W2 (the makemore MLP,
    interpreted runs of ~0.3 ms) and W3 (an MNIST MLP, ~8 ms) reached their steady state in
    4.1-4.2 s and 5.1-5.6 s of CPU that way, against 4.8-8.8 s and 6.8-6.9 s with a helper
    (load 12-13, docs/benchmarks.md).
    `STEPJIT_COMPILE_HELPER=always` starts one anyway."""
    if config.compile_helper() == "always":
        return enabled(program=True)
    return enabled() and interpreted_seconds >= HELPER_START_SECONDS


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def start(jobs) -> None:
    """Start a helper on `jobs`, [(kernels.Kernel, signature)] in the order the program calls
    them, where enough of them have no entry on disk; else nothing."""
    finish()
    if not (enabled() and machine_cache.available()):
        return
    todo = pending(jobs)
    if len(todo) < MIN_KERNELS:
        return
    _spawn(todo[::-1])


def _spawn(todo):
    """Start the helper on these jobs (JSON-ready), in the order it takes them."""
    try:
        proc = subprocess.Popen(command(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=environment())
        proc.stdin.write(json.dumps(todo).encode())
        proc.stdin.close()
    except OSError:
        return
    _HELPER.append(proc)
    if not _EXIT_HOOK:      # no helper outlives the program's process (nor runs uncounted)
        _EXIT_HOOK.append(atexit.register(finish))


def pending(jobs):
    """The helper's jobs (JSON-ready) for the (kernel, signature) pairs whose kernel has not
    run in this process and whose entry is not on disk, each once, in the given order."""
    todo, seen = [], set()
    for kernel, sig in jobs:
        path = machine_cache.entry_path(kernel.path, sig, kernel.function)
        if path in seen or kernel.call != kernel._first or os.path.exists(path):
            continue
        seen.add(path)
        todo.append({"fname": kernel.fname, "function": kernel.function, "text": kernel.text,
                     "sig": sig, "entry": path})
    return todo


def command():
    """The helper's command line (its jobs come on stdin, as JSON)."""
    return [sys.executable, "-m", "stepjit.codegen.compile_helper", str(os.getpid())]


def environment():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return config.child_environment(root)


def running() -> bool:
    return bool(_HELPER)


def finish() -> None:
    """End the helper (the program's run is over: what it has not built, nobody waits for)."""
    while _HELPER:
        proc = _HELPER.pop()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def wait(entry_path) -> None:
    """Return once the entry at entry_path is on disk, or nobody is building it: where this
    process's helper has claimed it, wait for it rather than compile the kernel again."""
    if not _HELPER:
        return
    proc = _HELPER[-1]
    while proc.poll() is None and not os.path.exists(entry_path) \
            and _claimant(entry_path) == proc.pid:
        time.sleep(_POLL)


def busy(entry_path) -> bool:
    """Is a live process (this process's helper, another process) building the kernel whose
    entry goes at entry_path? A program warming up (programs/warmup.py) leaves it to them."""
    if not entry_path:
        return False
    holder = _claimant(entry_path)
    return bool(holder) and holder != os.getpid() and _alive(holder)


def _claimant(entry_path):
    try:
        with open(entry_path + ".claim") as f:
            return int(f.read() or 0)
    except (OSError, ValueError):
        return None


def claim(entry_path) -> bool:
    """Claim the kernel for this process; False where a live process holds it."""
    path = entry_path + ".claim"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    except OSError:
        return False
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            holder = _claimant(entry_path)
            if holder and _alive(holder):
                return False
            try:                         # left by a process that ended mid-compile
                os.remove(path)
            except OSError:
                return False
            continue
        except OSError:
            return False
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        return True
    return False


def _alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def unclaim(entry_path):
    try:
        os.remove(entry_path + ".claim")
    except OSError:
        pass


# -- a native program's loop kernels -----------------------------------------------------------
_PROGRAMS = {}     # a program_packed kernel's module path -> the jobs of its loop kernels
_DECORATED = re.compile(r"^@njit\((.*)\)\ndef (loop\d+)\(", re.M)
_MADE = re.compile(
    r"^    (\w+) = (?:array_at\(p, \d+, |np\.empty\(|empty_array\()\((.*)\), np\.(\w+)\)$")
_RESHAPED = re.compile(r"^    (\w+) = reshaped\((\w+), \((.*)\)\)$")
_SAME = re.compile(r"^    (\w+) = (\w+)$")
_CALL = re.compile(r"^    (loop\d+)\((.*)\)$")


def program_jobs(kernel, given=()):
    """The helper's jobs for the loop kernels that `kernel` (a native program's
    `program_packed`, codegen/kernels.Kernel) calls rather than inlines, in the program's
    order, each with the signature its text settles: every array argument one the program
    made C-contiguous (array_at, empty_array, a name for one, a reshape of one, an array given
    for a result: `given`, [(dtype, ndim)] of r0, r1, ...), every other a size `dims[k]` (int64).
    A kernel called with anything else is left out."""
    calls = {name for opts, name in _DECORATED.findall(kernel.text) if "inline=" not in opts}
    body = kernel.text.split("\ndef program_packed(", 1)[-1]
    arrays, jobs, seen = {f"r{k}": spec for k, spec in enumerate(given)}, [], set()
    for line in body.splitlines():
        if m := _MADE.match(line):
            arrays[m[1]] = (m[3], len([d for d in m[2].split(",") if d.strip()]))
        elif m := _RESHAPED.match(line):
            src = arrays.get(m[2])
            arrays[m[1]] = src and (src[0], len([d for d in m[3].split(",") if d.strip()]))
        elif m := _SAME.match(line):
            arrays[m[1]] = arrays.get(m[2])
        elif (m := _CALL.match(line)) and m[1] in calls:
            sig = _signature(m[2].split(", "), arrays)
            if sig is not None and (m[1], sig) not in seen:
                seen.add((m[1], sig))
                jobs.append({"fname": kernel.fname, "function": m[1], "text": kernel.text,
                             "sig": sig, "entry": _mark_path(kernel.path, sig, m[1]),
                             "numba_only": True})
    return jobs


def _signature(args, arrays):
    sig = []
    for a in args:
        if re.fullmatch(r"dims\[\d+\]|dim\d+", a):
            sig.append("i")
        elif arrays.get(a):
            dtype, ndim = arrays[a]
            sig.append((dtype, ndim, "C", True))
        else:
            return None
    return tuple(sig)


def _numba_cached(kernel):
    """The functions of kernel's module that Numba's cache beside it holds (an index file
    `<module>.<function>-<line>.*.nbi`): a process that compiled the program without a helper
    leaves no marks, and a warm process must not start one to load them."""
    try:
        names = os.listdir(os.path.join(os.path.dirname(kernel.path), "__pycache__"))
    except OSError:
        return set()
    prefix = kernel.fname + "."
    return {n[len(prefix):].split("-", 1)[0] for n in names
            if n.startswith(prefix) and n.endswith(".nbi")}


def _mark_path(module_path, sig, function):
    """Where the mark of a kernel compiled into Numba's cache for sig goes (beside its entry's
    path, which it must not take: a kernel of a program has no entry)."""
    return machine_cache.entry_path(module_path, sig, function)[:-len(".entry")] + ".numba"


def _mark(path):
    try:
        diskcache.write_atomic(path, "")
    except OSError:
        pass


# program_packed(p, dims): the addresses of its arrays and its sizes, both int64 vectors
PACKED_SIGNATURE = (("int64", 1, "C", True), ("int64", 1, "C", True))


def packed_signature(given=()):
    """program_packed's signature (machine_cache.signature): p, the arrays given for its
    results (`given`: [(dtype, ndim)], each a new C-contiguous array), dims."""
    return PACKED_SIGNATURE[:1] + tuple((d, n, "C", True) for d, n in given) + PACKED_SIGNATURE[1:]


def program_job(kernel, given=()):
    """The helper's job for `kernel`'s program itself (a native program's `program_packed`):
    compiled into Numba's cache, with its machine-code entry where it can have one, and marked.
    A program that returns nothing (`entry_first`, kernels.ProgramKernel) is compiled straight
    into its entry as the main process would (codegen/program_entry.py): no CPython wrapper, no
    second emission for the entry."""
    sig = packed_signature(given)
    return {"fname": kernel.fname, "function": kernel.function, "text": kernel.text,
            "sig": sig, "program": True, "entry_first": kernel.ENTRY_FIRST,
            "entry": _mark_path(kernel.path, sig, kernel.function)}


def start_program(kernel, given=()) -> bool:
    """When a native program is built, before its interpreted runs: a helper builds its loop
    kernels not marked compiled, last first, then the program, into Numba's cache, where it
    calls enough kernels (PROGRAM_MIN_KERNELS) to be worth it, the program is not compiled yet, and
    there are two cores. `given`: [(dtype, ndim)] of the arrays it is given for its results
    (codegen/native_program.py). True when it started one."""
    if not enabled(program=True) or kernel.path in _PROGRAMS:
        return False
    jobs = program_jobs(kernel, given)
    cached = _numba_cached(kernel)
    todo = [j for j in jobs if not (os.path.exists(j["entry"]) or j["function"] in cached)]
    whole = program_job(kernel, given)
    # (counting the kernels done: a process that ended before its helper built the program
    # leaves the kernels it had built, and the next one builds the rest and the program)
    # (an entry-first program compiled in a process without a helper leaves only its entry)
    if len(jobs) < PROGRAM_MIN_KERNELS or os.path.exists(whole["entry"]) \
            or kernel.function in cached or os.path.exists(
                machine_cache.entry_path(kernel.path, whole["sig"], kernel.function)):
        return False
    finish()
    _write_module(kernel)   # before the helper imports it: Numba's cache is keyed by its mtime
    _spawn(todo[::-1] + [whole])
    if _HELPER:
        _PROGRAMS[kernel.path] = todo + [whole]
    return bool(_HELPER)


def building(kernel) -> bool:
    """Is a helper of this process building `kernel`'s program right now (alive, and the
    program not marked built)? While it is, the program runs interpreted rather than compile
    what the helper is compiling."""
    jobs = _PROGRAMS.get(kernel.path)
    if not jobs or not _HELPER or os.path.exists(jobs[-1]["entry"]):
        return False
    return _HELPER[-1].poll() is None


def _write_module(kernel):
    try:
        with open(kernel.path, encoding="utf-8") as f:
            if f.read() == kernel.text:
                return
    except (OSError, ValueError):
        pass
    try:
        diskcache.write_atomic(kernel.path, kernel.text)
    except OSError:
        pass


def before_program(kernel, dispatchers) -> None:
    """Before `kernel`'s program compiles here: where a helper was started on it, compile in
    the program's order each loop kernel nobody has marked or claimed, wait for those the
    helper holds and for the program itself while the helper lives, and end it: the program
    is then in Numba's cache, or the helper is gone and it compiles here. `dispatchers`: the
    module's globals (its kernels' Numba dispatchers)."""
    jobs = _PROGRAMS.pop(kernel.path, None)
    if not jobs:
        return
    loops, whole = [j for j in jobs if not j.get("program")], jobs[-1]
    try:
        for job in loops:
            if os.path.exists(job["entry"]) or not claim(job["entry"]):
                continue
            try:
                fn = dispatchers[job["function"]]
                fn.compile(tuple(fn.typeof_pyval(stand_in(s)) for s in job["sig"]))
                _mark(job["entry"])
            except Exception:  # noqa: BLE001 - the program's own compile then meets it
                pass
            finally:
                unclaim(job["entry"])
        for job in loops:
            wait(job["entry"])
        if whole.get("program"):
            _wait_built(whole["entry"])
    finally:
        finish()


def _wait_built(mark):
    """Return once the mark is on disk or this process's helper has ended (it takes its jobs in
    order: a program it has not reached yet, it will)."""
    while _HELPER and _HELPER[-1].poll() is None and not os.path.exists(mark):
        time.sleep(_POLL)


def stand_in(spec):
    """An argument of this signature entry (machine_cache.signature): 0 for an int, else an
    array of that dtype, rank, layout and writability (its values unused)."""
    import numpy as np
    if spec == "i":
        return 0
    dtype, ndim, layout, writeable = spec
    if layout == "C":
        a = np.empty((1,) * ndim, dtype)
    elif layout == "F":
        a = np.empty((2,) * ndim, dtype, order="F")
    else:
        a = np.empty((2,) * (ndim - 1) + (4,), dtype)[..., ::2]
    if not writeable:
        a.setflags(write=False)
    return a


def _build(job):
    """Compile one kernel for its signature and store its machine-code entry."""
    from . import kernels
    sig = tuple(s if s == "i" else tuple(s) for s in job["sig"])
    kind = kernels.ProgramKernel if job.get("entry_first") else kernels.Kernel
    kernel = kind(job["fname"], job["text"], False, job["function"])
    with kernels._LOCK:
        kernel.checked = kernels._load(kernel.fname, kernel.text, kernel.function)
    args = [stand_in(s) for s in sig]
    if job.get("entry_first") and kernel.compile_program_entry(args, sig) is not None:
        _mark(job["entry"])     # (the entry is the product: nothing of it in Numba's cache)
        return
    if not job.get("numba_only") and kernel.compile_entry(args, sig) is not None:
        return          # a loop kernel compiled for its entry alone (codegen/entry_compile.py)
    dispatcher = kernel.checked.fn
    dispatcher.compile(tuple(dispatcher.typeof_pyval(a) for a in args))
    if not job.get("numba_only"):    # (a program's loop kernel: Numba's cache is the product)
        kernel._build_entry(args, sig)
    if job.get("numba_only") or job.get("program"):
        _mark(job["entry"])


def main(argv) -> int:
    parent = int(argv[0])
    jobs = json.load(sys.stdin)
    for job in jobs:
        if os.getppid() != parent:      # the program's process is gone
            break
        if os.path.exists(job["entry"]) or not claim(job["entry"]):
            continue
        try:
            _build(job)
        except Exception as e:  # noqa: BLE001 - the program compiles it itself, and reports
            if config.logs("cache"):
                print(f"[stepjit] the compile helper could not build {job['fname']}: "
                      f"{type(e).__name__}: {e}", file=sys.stderr)
        finally:
            unclaim(job["entry"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
