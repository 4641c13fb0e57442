"""Every setting stepjit reads from the environment, in one table, read here and nowhere else.

Other modules ask the functions below (`config.check()`, `config.logs("guards")`, ...); none
of them touches `os.environ`, and tests/test_config.py fails if one does. docs/configuration.md
holds the same table (the test compares the two).

A variable is read each time its setting is asked for, not once at import: a script (or a
test) that sets `os.environ["STEPJIT_CHECK"] = "1"` before compiling gets check mode, as it
did when each module read its own variable. None of these reads is on a compiled call's
path: each is asked when a function is compiled, a program is built, a kernel is loaded or
an event is logged. Switches that are not environment variables (the eager shortcuts'
`dispatch.FAST`, `array_vjp.ENABLED`, `tape.ENABLED`) stay beside the code they switch,
because they are read on every eager op, where one more attribute lookup is measurable;
tests flip them to compare both paths.

Flags read '' and '0' as off and anything else as on, unless the table says otherwise.
Settings made from Python rather than the environment live here too (`dynamo`).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    default: str       # what an unset variable reads as ("" for none)
    effect: str        # one sentence for users (docs/configuration.md)


VARIABLES = {v.name: v for v in (
    Variable("STEPJIT_CHECK", "",
             "`1`: every function compiled from now on runs in check mode (each compiled value "
             "compared with the IR interpreter's), as `stepjit.compile(check=True)`; an explicit "
             "`check=` wins"),
    Variable("STEPJIT_VERIFY", "",
             "`1`: the IR verifier runs on every traced graph and after every graph stage of the "
             "pipeline, naming the stage that broke it"),
    Variable("STEPJIT_NATIVE", "",
             "when a small CPU program becomes one native function: unset, at its trace's "
             "64th reuse; `1` as soon as it is built; `0` never"),
    Variable("STEPJIT_FIRST_CALL", "",
             "a CPU trace's first call: unset, run by the IR interpreter (eager's values, no "
             "kernel compiled), its programs built at its second call (one bound to go native "
             "runs interpreted until it does); `compile`: built, compiled and run at the first "
             "call"),
    Variable("STEPJIT_LOGS", "",
             "comma-separated topics printed to stderr as they happen: `recompiles` (traces, "
             "retraces, fallbacks), `guards`, `ir`, `cache` (why a kernel has no machine-code "
             "entry)"),
    Variable("STEPJIT_PROGRESS", "",
             "progress line while a compile takes over a second: unset, on a terminal only; "
             "`1` always; `0` never"),
    Variable("STEPJIT_REPORT", "",
             "a directory: the process is profiled and writes one HTML report there at exit "
             "(`stepjit report` for one script)"),
    Variable("STEPJIT_CACHE_DIR", "",
             "where compiled kernels are cached across processes (its `kernels/` folder); "
             "unset: `$XDG_CACHE_HOME/stepjit`, else `~/.cache/stepjit`"),
    Variable("XDG_CACHE_HOME", "",
             "the user cache directory, used when `STEPJIT_CACHE_DIR` is unset"),
    Variable("STEPJIT_MACHINE_CACHE", "1",
             "`0`: kernels are not given machine-code entries, so every process imports Numba "
             "to run them (docs/cache.md)"),
    Variable("STEPJIT_COMPILE_HELPER", "1",
             "`0`: a program's loop kernels and native program are all compiled in its own "
             "process, none by a helper process on a second core; `always`: a helper starts "
             "whatever the load average (by default a native program's helper does, a run's "
             "loop kernels' only where a core looks idle; codegen/compile_helper.py)"),
    Variable("STEPJIT_BLAS", "1",
             "`0`: native programs do not call NumPy's BLAS; they keep generated matmul loops "
             "and refuse large matmuls"),
    Variable("STEPJIT_THREADS", "",
             "threads of a compiled program's large matmuls and loops: unset, one or the "
             "pools' size (OpenBLAS's, Numba's), whichever the program's own recent calls ran "
             "faster; `n`: n threads (at most each pool's size), as `set_num_threads(n)` "
             "(docs/compiler.md, \"Threads\")"),
    Variable("STEPJIT_FP_WARNINGS", "",
             "`1`: keep NumPy's floating-point RuntimeWarnings (`divide by zero encountered in "
             "log`); unset, importing stepjit sets NumPy's error state (`np.seterr`, the "
             "importing thread's) to ignore division by zero, invalid values and overflow, so "
             "eager ops give inf and nan silently, as PyTorch's do"),
    Variable("STEPJIT_MPIEXEC", "",
             "the MPI launcher `stepjit run` uses, before the one beside Python and on PATH"),
    Variable("RANK", "",
             "`init_process_group`: the rank a launcher set, checked against MPI's"),
    Variable("WORLD_SIZE", "",
             "`init_process_group`: the process count a launcher set, checked against MPI's"),
    Variable("NUMBA_ENABLE_CUDASIM", "",
             "Numba's: `1` runs CUDA kernels in Numba's simulator (tests); stepjit then reports "
             "a simulated device"),
    Variable("NUMBA_NUM_THREADS", "",
             "Numba's: the size of the thread pool parallel CPU kernels run on (default: the "
             "core count); `get_num_threads()` reports it until `set_num_threads` is called"),
)}


class dynamo:
    """Defaults for every compiled function, set from Python (`torch._dynamo.config`, in small:
    `stepjit._dynamo.config` is this class)."""
    recompile_limit = 8       # traces of one function before a miss runs eagerly
    # Root traces (one per argument shape and guard outcome) a compiled function keeps. Past
    # it, adding one drops the root used least since the previous drop (the oldest among
    # equals) with its subtree, programs and fast calls (`stats()["evictions"]`); a call that
    # needs it again traces again and finds its kernels compiled. Without it, a function whose
    # recompile limit was raised for many batch sizes kept every size's trace and program.
    trace_cache_limit = 64
    # torch._dynamo.config.automatic_dynamic_shapes, as stepjit has it: a call that misses only
    # because a tensor argument's sizes changed (a shorter last batch, sequences of varying
    # length) is traced for its shape without counting against the recompile limit, so a step
    # never falls back to eager for a new shape. Each shape gets its own trace and program
    # (bounded by trace_cache_limit); the kernels are shape-generic, so a new shape compiles
    # none. False: a new shape is an ordinary recompile.
    automatic_dynamic_shapes = True
    # A step traced on every call (its Python must run every call) runs eagerly instead when
    # its elementwise ops average fewer elements than this: tracing costs more than fusion
    # saves (runtime/per_call.py). 0: always trace.
    per_call_eager_below = 1 << 15
    # A small step (one per_call_eager_below runs eagerly) whose traces of one call (it printed)
    # come twice with fewer calls than this between runs eagerly on
    # every call: such a trace costs 20-70 ms, a replay saves ~0.4 ms over an eager call, so
    # they break even at 50-150 calls (runtime/compiled.py _one_shot_too_often). 0: never.
    one_shot_gap = 100


def raw(name: str) -> str:
    """The variable's text, or its default when unset."""
    return os.environ.get(name, VARIABLES[name].default)


def _flag(name: str) -> bool:
    return raw(name) not in ("", "0")


def check() -> bool:
    return _flag("STEPJIT_CHECK")


def verify() -> bool:
    return _flag("STEPJIT_VERIFY")


def native_mode() -> str:
    """"hot" (default), "always" (STEPJIT_NATIVE=1) or "never" (STEPJIT_NATIVE=0)."""
    return {"0": "never", "1": "always"}.get(raw("STEPJIT_NATIVE"), "hot")


def first_call_compiles() -> bool:
    """Whether a CPU trace's first call runs compiled (STEPJIT_FIRST_CALL=compile) rather than
    interpreted (default)."""
    return raw("STEPJIT_FIRST_CALL") == "compile"


def logs(topic: str) -> bool:
    """Whether STEPJIT_LOGS lists `topic`."""
    return topic in raw("STEPJIT_LOGS").replace(" ", "").split(",")


def progress() -> bool:
    flag = raw("STEPJIT_PROGRESS")
    if flag in ("0", "1"):
        return flag == "1"
    return hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


def report_dir() -> str:
    """Where STEPJIT_REPORT asks for the whole-process report ('' for none)."""
    return raw("STEPJIT_REPORT")


def cache_root() -> str:
    """The on-disk cache's directory (kernels go in its `kernels/` folder)."""
    d = raw("STEPJIT_CACHE_DIR")
    if d:
        return d
    base = raw("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "stepjit")


def machine_cache() -> bool:
    return raw("STEPJIT_MACHINE_CACHE") != "0"


def compile_helper() -> str:
    """"0" (never), "always", or "1" (where a core looks idle): codegen/compile_helper.py."""
    mode = raw("STEPJIT_COMPILE_HELPER").strip()
    return mode if mode in ("0", "always") else "1"


def blas() -> bool:
    return raw("STEPJIT_BLAS") != "0"


def fp_warnings() -> bool:
    return _flag("STEPJIT_FP_WARNINGS")


def mpiexec() -> str:
    return raw("STEPJIT_MPIEXEC")


def launcher_rank():
    """(RANK, WORLD_SIZE) as a launcher set them (None where unset)."""
    return os.environ.get("RANK"), os.environ.get("WORLD_SIZE")


def cuda_simulator() -> bool:
    return raw("NUMBA_ENABLE_CUDASIM") == "1"


def threads() -> int | None:
    """The thread count STEPJIT_THREADS fixes for compiled programs, or None (chosen per
    program: stepjit/programs/threads.py)."""
    text = raw("STEPJIT_THREADS").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"STEPJIT_THREADS must be a positive integer, got {text!r}")
    return int(text)


def numba_threads() -> int:
    """The thread pool Numba will start with (without importing Numba)."""
    return int(raw("NUMBA_NUM_THREADS") or os.cpu_count() or 1)


def child_environment(pythonpath_first: str) -> dict:
    """This process's environment for a child Python, with `pythonpath_first` put at the front
    of PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath_first, env.get("PYTHONPATH"))
                                        if p)
    return env


def markdown_table() -> str:
    """The table docs/configuration.md shows (tests/test_config.py compares them)."""
    rows = ["| variable | default | effect |", "|---|---|---|"]
    for v in VARIABLES.values():
        rows.append(f"| `{v.name}` | {f'`{v.default}`' if v.default else 'unset'} | {v.effect} |")
    return "\n".join(rows) + "\n"
