"""`python -m benchmarks.warmup`: the first calls of large steps, kernels compiled at once or
over the first calls (stepjit/programs/warmup.py).

A step that does not become one native program compiles its loop kernels at its first
compiled run (its second call). Cases:

    lstm      2-layer LSTM word language model over 35 time steps (pytorch/examples'
              word_language_model: Embedding, LSTM with dropout, Linear decoder, NLLLoss on
              log_softmax, clip_grad_norm_, SGD written as p.data.add_), vocabulary 200,
              width 64, batch 8
    resnet    a small CIFAR ResNet (kuangliu/pytorch-cifar's BasicBlock: conv-bn-relu twice
              and a shortcut, avg_pool2d, Linear), one block per stage, widths 16-128,
              batch 8 of 3x32x32, CrossEntropyLoss, SGD momentum 0.9, weight decay 5e-4
    resnet18  the same with ResNet-18's shapes (two blocks per stage, widths 64-512),
              batch 32 (heavy: `--cases resnet18`)

Each run is a fresh process with an empty kernel cache, for each mode in turn ("at once":
every kernel compiled at the first compiled run; "warm-up": groups interpreted until their
kernel is ready), interleaved over --runs. Reported: each of the first calls, the slowest
call, and the time to --steps calls, in wall seconds (medians over the runs), with the load
average before and after. `--helper` sets STEPJIT_COMPILE_HELPER (default: as the
environment says; the helper starts only where a core looks idle).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = {"at once": False, "warm-up": True}
CASES = ("lstm", "resnet", "resnet18")


def lstm_step():
    import numpy as np
    import stepjit as torch
    import stepjit.nn as nn
    ntoken, width, batch, bptt = 200, 64, 8, 35

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.2)
            self.encoder = nn.Embedding(ntoken, width)
            self.rnn = nn.LSTM(width, width, 2, dropout=0.2)
            self.decoder = nn.Linear(width, ntoken)

        def forward(self, x, hidden):
            emb = self.drop(self.encoder(x))
            out, hidden = self.rnn(emb, hidden)
            decoded = self.decoder(self.drop(out)).view(-1, ntoken)
            return nn.functional.log_softmax(decoded, dim=1), hidden

    torch.manual_seed(0)
    model, criterion = RNNModel(), nn.NLLLoss()

    @torch.compile
    def step(data, targets, hidden):
        model.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-20)
        return loss, hidden

    rng = np.random.default_rng(0)
    data = torch.tensor(rng.integers(0, ntoken, (bptt, batch)))
    targets = torch.tensor(rng.integers(0, ntoken, (bptt * batch,)))
    state = [(torch.zeros(2, batch, width), torch.zeros(2, batch, width))]

    def call():
        loss, hidden = step(data, targets, state[0])
        state[0] = tuple(h.detach() for h in hidden)
        return loss.item()
    return call


def resnet_step(blocks=(1, 1, 1, 1), widths=(16, 32, 64, 128), batch=8):
    import numpy as np
    import stepjit as torch
    import stepjit.nn as nn
    import stepjit.nn.functional as F

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + self.shortcut(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(widths[0])
            layers, cin = [], widths[0]
            for k, (n, w) in enumerate(zip(blocks, widths)):
                for j in range(n):
                    layers.append(BasicBlock(cin, w, 2 if k and not j else 1))
                    cin = w
            self.layers = nn.Sequential(*layers)
            self.linear = nn.Linear(widths[-1], 10)

        def forward(self, x):
            out = self.layers(F.relu(self.bn1(self.conv1(x))))
            out = F.avg_pool2d(out, 4)
            return self.linear(out.view(out.size(0), -1))

    torch.manual_seed(0)
    model, criterion = ResNet(), nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)

    @torch.compile
    def step(x, y):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((batch, 3, 32, 32)).astype(np.float32))
    y = torch.tensor(rng.integers(0, 10, (batch,)))
    return lambda: step(x, y).item()


def make(case):
    if case == "lstm":
        return lstm_step()
    if case == "resnet":
        return resnet_step()
    return resnet_step((2, 2, 2, 2), (64, 128, 256, 512), 32)


def child(case, warm, steps):
    """One fresh process: the case's first `steps` calls, timed (its setup is not)."""
    import time
    from stepjit.codegen import kernels
    from stepjit.programs import warmup
    warmup.ENABLED = warm
    call = make(case)
    times, start = [], time.perf_counter()
    for _ in range(steps):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    print(json.dumps({"times": times, "total": total, "compiled": kernels.STATS["compiled"]}))


def run_child(case, warm, steps, helper):
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, STEPJIT_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
        env.pop("STEPJIT_FIRST_CALL", None)
        if helper is not None:
            env["STEPJIT_COMPILE_HELPER"] = helper
        out = subprocess.run([sys.executable, "-m", "benchmarks.warmup", "--child", case,
                              str(int(warm)), str(steps)], env=env, cwd=ROOT,
                             capture_output=True, text=True)
    if out.returncode:
        mode = "warm-up" if warm else "at once"
        raise RuntimeError(f"{case} ({mode}) failed (exit status {out.returncode}):\n"
                           f"{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(case, results, steps, shown=6):
    print(f"\n{case}: wall seconds, medians of {len(next(iter(results.values())))} cold runs")
    head = " ".join(f"call{k + 1:>2}" for k in range(shown))
    print(f"  {'mode':<8} {head}  slowest  to {steps} calls  kernels compiled")
    for mode, runs in results.items():
        med = [statistics.median(r["times"][k] for r in runs) for k in range(shown)]
        slowest = statistics.median(max(r["times"]) for r in runs)
        total = statistics.median(r["total"] for r in runs)
        calls = " ".join(f"{t:6.2f}" for t in med)
        print(f"  {mode:<8} {calls}  {slowest:7.2f}  {total:11.2f}  {runs[0]['compiled']:>5}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="lstm,resnet")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--helper", choices=("0", "1", "always"))
    ap.add_argument("--child", nargs=3)
    args = ap.parse_args(argv)
    if args.child:
        case, warm, steps = args.child
        return child(case, warm == "1", int(steps))
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for case in args.cases.split(","):
        results = {mode: [] for mode in MODES}
        for _ in range(args.runs):
            for mode, warm in MODES.items():
                results[mode].append(run_child(case, warm, args.steps, args.helper))
        report(case, results, args.steps)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
