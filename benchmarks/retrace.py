"""Issue 17: what per-call retracing costs, and compile time against graph size.

`python -m benchmarks.retrace [--reps N] [--unroll 5,10,20,40,80,100] [--only per-call|compile]`

(a) per-call steps vs eager: the official dynamic_net tutorial's step (Python's
    random.randint in forward, so its Python runs on every call) compiled on the cpu
    backend, as the runtime chooses (a per-call step with small ops runs eagerly,
    runtime/per_call.py) and traced on every call (`config.dynamo.per_call_eager_below = 0`,
    how every per-call step ran before), and the same step with the loop count fixed (one
    cached trace), against the eager step; calls are interleaved in one process and the
    figure is the median time per call. Goal: per-call at most 1.5x eager.
(a2) the same for a step that prints its loss (`print(t, loss.item())`, the official
    two-layer-net tutorial with a custom autograd.Function ReLU, N=64, 100-100-10, and a
    large one, N=512, 1024-1024-64, which stays traced): the printed value changes every
    call, so the step's Python runs on every call; and for one that keeps it
    (`losses.append(loss.item())`).
(b) compile time against graph size: a tanh RNN cell unrolled over T steps, with its
    loss, backward and SGD update, and an nn.LSTM over T steps with a Linear head and SGD,
    compiled (first call: trace, optimize, fuse, codegen) on the cpu backend with a fresh
    kernel cache; the graph's node count, the first call's seconds per T and the kernels
    Numba compiled for it. Goal: linear; 100 steps under 5 s.
(c) the eager tape writer: the backward of an nn.LSTM's recurring tape that writes its
    function (autograd/tape.py), against T.

`--only per-call` runs (a) and (a2), `--only compile` (b) and (c).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import warnings


def _dynamic_net(torch, fixed=None):
    nn = torch.nn

    class DynamicNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c, self.d, self.e = (nn.Parameter(torch.randn(()))
                                                      for _ in range(5))

        def forward(self, x):
            y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
            for exp in range(4, fixed if fixed is not None else random.randint(4, 6)):
                y = y + self.e * x ** exp
            return y

    x = torch.linspace(-3.14, 3.14, 2000)
    y = torch.sin(x)
    model = DynamicNet()
    opt = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)

    def step():
        loss = ((model(x) - y) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


def _interleaved(reps, fns):
    """{name: median seconds per call}, the calls interleaved in rounds."""
    times = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(ts) for name, ts in times.items()}


def _per_call_variants(torch, make):
    """The step compiled twice: as the runtime chooses (a small per-call step runs eagerly,
    runtime/per_call.py) and traced on every call (`per_call_eager_below = 0`), which is how
    every per-call step ran before that choice."""
    from stepjit import config
    chosen = torch.compile(make(), backend="cpu")
    traced = torch.compile(make(), backend="cpu")
    below = config.dynamo.per_call_eager_below

    def traced_call():
        config.dynamo.per_call_eager_below = 0
        try:
            return traced()
        finally:
            config.dynamo.per_call_eager_below = below
    return chosen, traced, traced_call


def _describe(fn):
    st = fn.stats()
    return (f"mode {st['mode']}, traces {st['traces']}, eager calls {st['eager_calls']}, "
            f"programs built {st['programs_built']}, fallbacks {st['fallbacks']}")


def per_call(reps):
    import stepjit as torch
    random.seed(0)
    torch.manual_seed(0)
    eager = _dynamic_net(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chosen, traced, traced_call = _per_call_variants(torch, lambda: _dynamic_net(torch))
        cached = torch.compile(_dynamic_net(torch, fixed=5), backend="cpu")
        fns = {"eager": eager, "per-call (chosen)": chosen, "per-call traced": traced_call,
               "cached trace": cached}
        for _ in range(5):
            for fn in fns.values():
                fn()
        medians = _interleaved(reps, fns)
    base = medians["eager"]
    print(f"(a) dynamic_net step, median of {reps} interleaved calls (cpu backend)")
    for name, m in medians.items():
        print(f"    {name:18s} {m * 1e3:8.2f} ms   {m / base:5.2f}x eager")
    print(f"    chosen: {_describe(chosen)}")
    print(f"    traced: {_describe(traced)}")


def _two_layer_net(torch, keep, size=(64, 100, 100, 10)):
    """The demo's tutorial step (stepjit/cli/tutorial.py) with a `loss.item()` every call."""
    import io
    from stepjit.cli.tutorial import step as tutorial_step

    n, d_in, h, d_out = size
    x, y = torch.randn(n, d_in), torch.randn(n, d_out)
    w1 = torch.randn(d_in, h, requires_grad=True)
    w2 = torch.randn(h, d_out, requires_grad=True)
    sink, losses, counter = io.StringIO(), [], [0]

    def step():
        loss = tutorial_step(x, y, w1, w2, 1e-6)
        if keep:
            losses.append(loss.item())
        else:
            print(counter[0], loss.item(), file=sink)
        counter[0] += 1
        return loss
    return step


def item_every_step(reps, sizes=((64, 100, 100, 10), (512, 1024, 1024, 64))):
    import stepjit as torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for size in sizes:
            for keep, what in ((False, "print(t, loss.item())"),
                               (True, "losses.append(loss.item())")):
                torch.manual_seed(0)
                eager = _two_layer_net(torch, keep, size)
                torch.manual_seed(0)
                chosen, traced, traced_call = _per_call_variants(
                    torch, lambda: _two_layer_net(torch, keep, size))
                fns = {"eager": eager, "chosen": chosen, "traced": traced_call}
                for _ in range(5):
                    for fn in fns.values():
                        fn()
                m = _interleaved(reps, fns)
                base = m["eager"]
                print(f"(a2) two-layer net {'-'.join(map(str, size))}, {what}, median of {reps} "
                      f"interleaved calls (cpu backend)")
                print(f"    eager {base * 1e3:8.2f} ms   chosen {m['chosen'] * 1e3:8.2f} ms "
                      f"{m['chosen'] / base:5.2f}x   traced every call {m['traced'] * 1e3:8.2f} ms "
                      f"{m['traced'] / base:5.2f}x eager")
                print(f"    chosen: {_describe(chosen)}")
                print(f"    traced: {_describe(traced)}")


def _tanh_rnn(torch, T):
    torch.manual_seed(0)
    Wx = torch.randn(8, 16, requires_grad=True)
    Wh = torch.randn(16, 16, requires_grad=True)
    xs = [torch.randn(4, 8) for _ in range(T)]

    def step():
        h = torch.zeros(4, 16)
        for x in xs:
            h = torch.tanh(x @ Wx + h @ Wh)
        loss = (h ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in (Wx, Wh):
                p.sub_(0.01 * p.grad)
                p.grad = None
        return loss
    return step


def _lstm(torch, T):
    torch.manual_seed(0)
    lstm, head = torch.nn.LSTM(8, 16), torch.nn.Linear(16, 1)
    x, y = torch.randn(T, 4, 8), torch.randn(4, 1)
    opt = torch.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=0.01)

    def step():
        out, _ = lstm(x)
        loss = ((head(out[-1]) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


def compile_time(unrolls, models=("tanh", "lstm")):
    os.environ["STEPJIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="stepjit-retrace-bench-")
    import stepjit as torch
    from stepjit.codegen import kernels
    print(f"(b) first compiled call against the unrolled length (cpu backend, a fresh kernel cache "
          f"at the start: the kernels of shorter runs serve longer ones); load average "
          f"{os.getloadavg()[0]:.1f}")
    for model in models:
        make = _tanh_rnn if model == "tanh" else _lstm
        what = "tanh RNN cell (hidden 16, batch 4)" if model == "tanh" else \
            "nn.LSTM(8, 16), batch 4, Linear head, SGD"
        print(f"    {what}")
        for T in unrolls:
            fn = torch.compile(make(torch, T), backend="cpu")
            compiled = kernels.STATS["compiled"]
            t = time.perf_counter()
            fn()
            seconds = time.perf_counter() - t
            nodes = len(fn.traces[0].graph.nodes) if fn.traces else 0
            print(f"    T={T:4d}  {nodes:6d} nodes  {seconds:7.2f} s  "
                  f"({seconds / max(nodes, 1) * 1e3:.2f} ms/node, "
                  f"{kernels.STATS['compiled'] - compiled} kernels compiled)")
            sys.stdout.flush()


def tape_writer(unrolls):
    """(c) eagerly, an nn.LSTM's recurring tape is written out as one Python function at its
    third backward (autograd/tape.py): that backward's time against the unrolled length."""
    import stepjit as torch
    print("(c) eager nn.LSTM(8, 16), batch 4: the backward that writes the tape's function")
    for T in unrolls:
        torch.manual_seed(0)
        lstm, x = torch.nn.LSTM(8, 16), torch.randn(T, 4, 8)
        times = []
        for _ in range(3):
            out, _ = lstm(x)
            loss = out[-1].pow(2).mean()
            t = time.perf_counter()
            loss.backward()
            times.append(time.perf_counter() - t)
        print(f"    T={T:4d}  {times[-1]:7.2f} s  (the walk before it: {times[0] * 1e3:.0f} ms)")
        sys.stdout.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--unroll", default="5,10,20,40,80,100")
    ap.add_argument("--only", choices=("per-call", "compile"), default=None)
    args = ap.parse_args(argv)
    if args.only != "compile":
        per_call(args.reps)
        item_every_step(args.reps)
    if args.only != "per-call":
        unrolls = [int(t) for t in args.unroll.split(",")]
        compile_time(unrolls)
        tape_writer(unrolls)


if __name__ == "__main__":
    main()
