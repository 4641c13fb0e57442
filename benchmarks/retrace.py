"""Issue 17: what per-call retracing costs, and compile time against graph size.

`python -m benchmarks.retrace [--reps N] [--unroll 5,10,20,40]`

(a) per-call retrace vs eager: the official dynamic_net tutorial's step (Python's
    random.randint in forward, so stepjit traces it on every call, reusing its
    programs by structural hash) and the same step with the loop count fixed (one
    cached trace), compiled on the cpu backend, against the eager step; calls are
    interleaved in one process (rounds of eager, per-call, cached) and the figure is
    the median time per call. Goal: per-call at most 1.5x eager.
(a2) the same for a step that prints its loss (`print(t, loss.item())`, the official
    two-layer-net tutorial with a custom autograd.Function ReLU, N=64, 100-100-10): the
    printed value changes every call, so the step is traced on every call; and for one
    that keeps it (`losses.append(loss.item())`).
(b) compile time against graph size: a tanh RNN cell unrolled over T steps, with its
    loss, backward and SGD update, compiled (first call: trace, optimize, fuse,
    codegen) on the cpu backend with a fresh kernel cache; the graph's node count and
    the first call's seconds per T. Goal: linear; 100 steps under 5 s.
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


def per_call(reps):
    import stepjit as torch
    random.seed(0)
    torch.manual_seed(0)
    eager = _dynamic_net(torch)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        retraced = torch.compile(_dynamic_net(torch), backend="cpu")
        cached = torch.compile(_dynamic_net(torch, fixed=5), backend="cpu")
        for _ in range(5):
            eager(), retraced(), cached()
        times = {"eager": [], "per-call retrace": [], "cached trace": []}
        for _ in range(reps):
            for name, fn in (("eager", eager), ("per-call retrace", retraced),
                             ("cached trace", cached)):
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
    base = statistics.median(times["eager"])
    print(f"(a) dynamic_net step, median of {reps} interleaved calls (cpu backend)")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"    {name:18s} {m * 1e3:8.2f} ms   {m / base:5.2f}x eager")
    print(f"    per-call mode: {retraced.stats()['mode']}, traces {retraced.stats()['traces']}, "
          f"programs built {retraced.stats()['programs_built']}")


def _two_layer_net(torch, keep):
    import io

    class MyReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    x, y = torch.randn(64, 100), torch.randn(64, 10)
    w1 = torch.randn(100, 100, requires_grad=True)
    w2 = torch.randn(100, 10, requires_grad=True)
    sink, losses, counter = io.StringIO(), [], [0]

    def step():
        y_pred = MyReLU.apply(x.mm(w1)).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        if keep:
            losses.append(loss.item())
        else:
            print(counter[0], loss.item(), file=sink)
        counter[0] += 1
        loss.backward()
        with torch.no_grad():
            w1.sub_(1e-6 * w1.grad)
            w2.sub_(1e-6 * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
        return loss
    return step


def item_every_step(reps):
    import stepjit as torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for keep, what in ((False, "print(t, loss.item())"), (True, "losses.append(loss.item())")):
            torch.manual_seed(0)
            eager = _two_layer_net(torch, keep)
            torch.manual_seed(0)
            compiled = torch.compile(_two_layer_net(torch, keep), backend="cpu")
            for _ in range(5):
                eager(), compiled()
            times = {"eager": [], "compiled": []}
            for _ in range(reps):
                for name, fn in (("eager", eager), ("compiled", compiled)):
                    t = time.perf_counter()
                    fn()
                    times[name].append(time.perf_counter() - t)
            base = statistics.median(times["eager"])
            m = statistics.median(times["compiled"])
            st = compiled.stats()
            print(f"(a2) two-layer net, {what}, median of {reps} interleaved calls (cpu backend)")
            print(f"    eager {base * 1e3:8.2f} ms   compiled {m * 1e3:8.2f} ms   {m / base:5.2f}x "
                  f"eager  (mode {st['mode']}, traces {st['traces']}, programs built "
                  f"{st['programs_built']}, fallbacks {st['fallbacks']})")


def compile_time(unrolls):
    os.environ["STEPJIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="stepjit-retrace-bench-")
    import stepjit as torch
    print("(b) unrolled tanh RNN (hidden 16, batch 4): first compiled call, fresh kernel cache")
    for T in unrolls:
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
        fn = torch.compile(step, backend="cpu")
        t = time.perf_counter()
        fn()
        seconds = time.perf_counter() - t
        nodes = len(fn.traces[0].graph.nodes) if fn.traces else 0
        print(f"    T={T:4d}  {nodes:6d} nodes  {seconds:8.2f} s  ({seconds / max(nodes, 1) * 1e3:.2f} "
              "ms/node)")
        sys.stdout.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--unroll", default="5,10,20,40")
    args = ap.parse_args(argv)
    per_call(args.reps)
    item_every_step(args.reps)
    compile_time([int(t) for t in args.unroll.split(",")])


if __name__ == "__main__":
    main()
