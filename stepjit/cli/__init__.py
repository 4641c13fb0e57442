"""The `stepjit` command: `demo`, `bench`, `dump`, `explain`, `run`.

Each subcommand is one row of COMMANDS: its help line, a function that adds its
arguments, and the handler as a "module:function" string. The handler is
imported only when its subcommand runs, so a subcommand whose module is not
built yet costs nothing until asked for; then it says "not available yet" and
exits with status 2. To plug in a subcommand, write `handler(args) -> int` in
its module; the row here already points at it.
"""
from __future__ import annotations

import argparse
import importlib
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .. import config

NOT_AVAILABLE = 2


# ---------------------------------------------------------------- demo

def demo(args) -> int:
    """Train the PyTorch tutorial's two-layer network (custom ReLU, manual SGD), eagerly and
    compiled from the same initial values; print both losses, the speedup and the kernels.

    The program is stepjit/cli/tutorial.py.
    """
    from .tutorial import step, torch

    N, D_in, H, D_out = 64, 1000, 100, 10
    print(f"stepjit {torch.version.stepjit}: two-layer network N={N} D_in={D_in} H={H} "
          f"D_out={D_out}, custom ReLU, SGD lr=1e-6, {args.steps} steps")
    compiled = torch.compile(step, backend=args.backend)
    runs = {}
    for label, fn in (("eager", step), ("compiled", compiled)):
        torch.manual_seed(args.seed)
        x, y = torch.randn(N, D_in), torch.randn(N, D_out)
        w1 = torch.randn(D_in, H, requires_grad=True)
        w2 = torch.randn(H, D_out, requires_grad=True)
        runs[label] = _train(label, fn, (x, y, w1, w2, 1e-6), args.steps)
    (e_losses, e_times), (c_losses, c_times) = runs["eager"], runs["compiled"]
    print(f"{'step':>6} {'eager loss':>16} {'compiled loss':>16}")
    for t in range(99, args.steps, 100):
        print(f"{t:>6} {e_losses[t]:>16.6g} {c_losses[t]:>16.6g}")
    # Medians: a step's steady cost. The compiled function traces and compiles on its first
    # call, again when .grad first exists, briefly at its re-verifications, and once the trace
    # is hot it compiles it as one native program; with an empty kernel cache that is a few
    # seconds, which a mean over a few hundred steps would smear into every step.
    e_step, c_step = statistics.median(e_times), statistics.median(c_times[1:] or c_times)
    print(f"eager:    {1e3 * e_step:.3f} ms/step (median)")
    print(f"compiled: {1e3 * c_step:.3f} ms/step (median); first call {c_times[0]:.2f} s (tracing "
          f"and compiling), the other {len(c_times) - 1} calls {sum(c_times[1:]):.2f} s in all (they "
          f"include a second trace once .grad exists, and a native program once it is hot); "
          f"speedup {e_step / max(c_step, 1e-12):.2f}x")
    print(_kernel_summary(compiled))
    return 0


def _train(label, fn, args, steps):
    """The losses and the time of each call."""
    losses, times = [], []
    for _ in range(steps):
        start = time.perf_counter()
        losses.append(fn(*args).item())
        times.append(time.perf_counter() - start)
    return losses, times


def _kernel_summary(compiled) -> str:
    """What the compiled step runs: its fused loop kernels and other ops."""
    programs = [p for _, p in getattr(compiled, "programs", {}).values()]
    if not any(p.record is not None for p in programs):
        return f"backend {compiled.backend}: no fused kernels (interpreted)"
    lines = []
    built = [p for p in programs if p.record is not None]
    # The steady trace's program: the hot one that went native, else the first one listed.
    for program in ([p for p in built if p.is_native] or built)[:1]:
        fg = program.record.fused
        loops = [g for g in fg.groups if g.kind == "loop"]
        others = [g.nodes[0].prim.name for g in fg.groups if g.kind == "op"]
        runs = "; runs as one native program" if program.is_native else ""
        lines.append(f"fused kernels: {len(loops)} loops over {len(fg.graph.nodes)} IR nodes, "
                     f"plus {', '.join(f'{others.count(n)} {n}' for n in sorted(set(others)))}{runs}")
        for g in loops:
            ops = " ".join(n.prim.name for n in g.nodes)
            lines.append(f"  loop [{','.join(map(str, g.shape))}]: {ops}")
    return "\n".join(lines)


def _demo_arguments(p):
    p.add_argument("--steps", type=int, default=500, help="training steps (default 500)")
    p.add_argument("--seed", type=int, default=0, help="stepjit.manual_seed (default 0)")
    p.add_argument("--backend", default="cpu", choices=("cpu", "interpret"),
                   help="backend of the compiled run (default cpu)")


# ---------------------------------------------------------------- bench

def bench(args) -> int:
    """Run benchmarks/, the same harness as `python -m benchmarks`.

    It runs in a fresh interpreter: the harness pins BLAS threads, which only
    works before NumPy is first imported (and `stepjit` imports NumPy)."""
    root = _find_benchmarks()
    if root is None:
        return _not_available("bench", "no benchmarks/ directory in the current directory or "
                              "next to the stepjit package; run it from a source checkout")
    env = config.child_environment(str(root))
    return subprocess.call([sys.executable, "-m", "benchmarks", *args.bench_args], env=env)


def _find_benchmarks():
    """benchmarks/ ships with the source tree, not with the installed package."""
    for root in (Path.cwd(), Path(__file__).resolve().parent.parent):
        if (root / "benchmarks" / "__main__.py").is_file():
            return root
    return None


def _bench_arguments(p):
    p.add_argument("bench_args", nargs="*", metavar="ARG",
                   help="passed to the harness as is; `stepjit bench --help` shows its options")


# ---------------------------------------------------------------- dump / explain

def _script_arguments(p):
    p.add_argument("script", help="a Python file whose steps use stepjit.compile")
    p.add_argument("script_args", nargs=argparse.REMAINDER, help="arguments for the script")


# Commands whose arguments all go, unparsed, to their handler as args.<name>_args.
PASSTHROUGH = {"bench"}

def _dump_arguments(p):
    p.add_argument("--fn", help="only the compiled function with this name")
    p.add_argument("--stage", default="traced",
                   choices=("traced", "autodiff", "optimized", "fused", "kernels", "all"),
                   help="which stage of the pipeline to print (default: traced)")
    p.add_argument("--format", default="text", choices=("text", "json", "dot"))
    _script_arguments(p)


def _run_arguments(p):
    p.add_argument("-n", "--nproc", type=int, required=True, help="how many processes (ranks)")
    p.add_argument("--mpiexec", help="the MPI launcher (default: the one beside this Python)")
    p.add_argument("--mpi-args", default="", help="more launcher options, e.g. '-f hostfile'")
    _script_arguments(p)


# name -> (help, add_arguments, "module:function")
COMMANDS = {
    "demo": ("train the tutorial two-layer network and print its loss",
             _demo_arguments, "stepjit.cli:demo"),
    "bench": ("time the benchmark cases (same as `python -m benchmarks`)",
              _bench_arguments, "stepjit.cli:bench"),
    "dump": ("print the IR and generated kernel source of a script's compiled steps",
             _dump_arguments, "stepjit.cli.dump:dump"),
    "explain": ("say why a script's compiled steps were traced, retraced or fell back",
                _script_arguments, "stepjit.cli.dump:explain"),
    "report": ("run a script and write one HTML page on its compiled steps (--out FILE)",
               _script_arguments, "stepjit.cli.report:report"),
    "run": ("run a script on N processes through MPI (stepjit.distributed)",
            _run_arguments, "stepjit.distributed.launch:run"),
}


def _not_available(name, reason) -> int:
    print(f"stepjit {name}: not available yet: {reason}", file=sys.stderr)
    return NOT_AVAILABLE


def _resolve(name, target):
    """The handler for `target`, or a string saying why there is none."""
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and (module_name == e.name or module_name.startswith(e.name + ".")):
            return f"{module_name} is not built yet (the compiler is in progress)"
        raise
    handler = getattr(module, func_name, None)
    if handler is None:
        return f"{module_name} has no {func_name}() yet (the compiler is in progress)"
    return handler


def build_parser():
    parser = argparse.ArgumentParser(
        prog="stepjit", description="PyTorch-style training steps, run eagerly or compiled.")
    parser.add_argument("--version", action="version", version=f"stepjit {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_, add_arguments, _) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        add_arguments(p)
    return parser


def _version():
    from stepjit import version
    return f"{version.stepjit} (PyTorch API {version.PYTORCH_API})"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PASSTHROUGH:
        args = argparse.Namespace(command=argv[0], **{f"{argv[0]}_args": argv[1:]})
    else:
        parser = build_parser()
        args = parser.parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return NOT_AVAILABLE
    handler = _resolve(args.command, COMMANDS[args.command][2])
    if isinstance(handler, str):
        return _not_available(args.command, handler)
    return int(handler(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
