"""GPU cases, run on a real NVIDIA GPU (skipped, saying why, elsewhere).

cuda_two_layer: the two-layer step (mm, relu, mm, squared error, backward, SGD
update, zero the grads) at N=4096, D_in=4096, H=4096, D_out=1024, float32, compiled
with stepjit (backend "cuda"), against PyTorch CUDA eager and torch.compile when
PyTorch with CUDA is installed.

cuda_adam: Adam over 100 million float32 parameters (the step of
benchmarks/cases/adam.py, compiled on CUDA). Its baseline is a device-to-device
copy moving the same bytes as the fused Adam kernel must (read w, g, m, v; write
w, m, v: 28 bytes per parameter), measured in the same run, so the ratio is the
fraction of the device's copy bandwidth Adam reaches: target >= 70%, i.e. a step
at most 1/0.7 = 1.43x the copy. (The copy variant has no loss: it reports
stepjit's, so only stepjit and PyTorch are checked against each other.)

cuda_mnist_mlp: 784-256-128-10 MLP, batch 128, CrossEntropyLoss, Adam.
cuda_makemore_mlp: makemore's MLP (embedding table C[X] of 27x10, block 3, tanh
hidden 200, cross_entropy, SGD lr 0.1), batch 32.

Every timed call ends with a device synchronize, so the time is the GPU's.

`build(small=True)` shrinks every size so the whole set runs under Numba's CUDA
simulator in seconds: that is how benchmarks/gpu_check.sh is rehearsed on a machine
without a GPU (the timings then mean nothing and are labelled so; PyTorch's variants then run
on the CPU when its build has no CUDA, so their code is rehearsed too).
"""
from dataclasses import dataclass

import numpy as np

from ..harness import Case, Variant

LR = 1e-6


@dataclass(frozen=True)
class Sizes:
    n: int = 4096
    d_in: int = 4096
    h: int = 4096
    d_out: int = 1024
    adam: int = 100_000_000
    mnist_batch: int = 128
    mnist: tuple = (784, 256, 128, 10)
    mm_batch: int = 32
    mm_vocab: int = 27
    mm_block: int = 3
    mm_embed: int = 10
    mm_hidden: int = 200


SMALL = Sizes(n=8, d_in=8, h=8, d_out=4, adam=64, mnist_batch=4, mnist=(12, 8, 6, 3),
              mm_batch=4, mm_vocab=5, mm_block=3, mm_embed=2, mm_hidden=6)


def no_gpu(smallulator=False):
    import stepjit
    if not stepjit.cuda.is_available():
        return "no CUDA GPU available (numba.cuda.is_available() is False)"
    if stepjit.cuda.is_simulator() and not smallulator:
        return "NUMBA_ENABLE_CUDASIM=1: the CUDA simulator is not a GPU, timings would mean nothing"
    return None


def no_torch_cuda(allow_cpu=False):
    try:
        import torch
    except ImportError:
        return "torch is not installed (optional baseline)"
    if torch.cuda.is_available() or allow_cpu:
        return None
    return "torch has no CUDA device"


def _device(torch):
    """Where a variant's tensors live: the GPU, or, for PyTorch rehearsing its variants at
    small sizes on a machine without one, the CPU."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def _synced(torch, f, *args):
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)

    def call():
        loss = f(*args)
        sync()
        return loss
    return call


def _compiled(torch, step, system):
    if system == "stepjit":
        return torch.compile(step, backend="cuda")
    if system == "torch.compile":
        return torch.compile(step)
    return step


def _framework(system):
    if system == "stepjit":
        import stepjit as fw
    else:
        import torch as fw
    return fw


def _two_layer(system, s):
    torch = _framework(system)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape, dtype=np.float32) * 0.01
              for shape in ((s.n, s.d_in), (s.n, s.d_out), (s.d_in, s.h), (s.h, s.d_out))]
    x, y, w1, w2 = [torch.from_numpy(a).to(_device(torch)) for a in arrays]
    w1.requires_grad_()
    w2.requires_grad_()

    def step(x, y):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1.sub_(LR * w1.grad)     # (not `w1 -= ...`: that would make w1 local to step)
            w2.sub_(LR * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
        return loss
    return _synced(torch, _compiled(torch, step, system), x, y)


def _adam(system, s):
    torch = _framework(system)
    w = torch.ones(s.adam, device=_device(torch), requires_grad=True)
    g = torch.full((s.adam,), 0.5, device=_device(torch))
    opt = torch.optim.Adam([w], lr=1e-3)

    def step(w, g):
        loss = (w * g).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    return _synced(torch, _compiled(torch, step, system), w, g)


def _copy(s):
    import stepjit
    from stepjit import cuda as dev
    from stepjit.programs.cuda import copy_into
    n = s.adam * 28 // 8          # float32 elements: read + write = 28 bytes per parameter
    src, dst = dev.empty((n,), np.float32), dev.empty((n,), np.float32)
    copy_into(src, 0.5)
    loss = float(s.adam) * 0.5      # what the Adam variants' first loss is

    class _Loss:
        def item(self):
            return loss

    def call():
        dst.copy_to_device(src)
        stepjit.cuda.synchronize()
        return _Loss()
    return call


def _mnist_mlp(system, s):
    torch = _framework(system)
    rng = np.random.default_rng(0)
    d = s.mnist
    dev = _device(torch)
    x = torch.from_numpy(rng.standard_normal((s.mnist_batch, d[0]), dtype=np.float32)).to(dev)
    y = torch.from_numpy(rng.integers(0, d[-1], s.mnist_batch)).to(dev)
    layers = []
    for fan_in, fan_out in zip(d[:-1], d[1:]):
        lin = torch.nn.Linear(fan_in, fan_out)
        with torch.no_grad():   # the same initial values for every system
            lin.weight.copy_(torch.from_numpy(
                rng.uniform(-1, 1, (fan_out, fan_in)).astype(np.float32) / np.sqrt(fan_in)))
            lin.bias.zero_()
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return _synced(torch, _compiled(torch, step, system), x, y)


def _makemore_mlp(system, s):
    torch = _framework(system)
    rng = np.random.default_rng(0)
    F = torch.nn.functional
    fan_in = s.mm_block * s.mm_embed
    dev = _device(torch)

    def param(shape, scale):
        a = (rng.standard_normal(shape) * scale).astype(np.float32)
        return torch.from_numpy(a).to(dev).requires_grad_()
    C = param((s.mm_vocab, s.mm_embed), 1.0)
    W1, b1 = param((fan_in, s.mm_hidden), 5 / 3 / fan_in ** 0.5), param((s.mm_hidden,), 0.01)
    W2, b2 = param((s.mm_hidden, s.mm_vocab), 0.01), param((s.mm_vocab,), 0.0)
    params = [C, W1, b1, W2, b2]
    X = torch.from_numpy(rng.integers(0, s.mm_vocab, (s.mm_batch, s.mm_block))).to(dev)
    Y = torch.from_numpy(rng.integers(0, s.mm_vocab, s.mm_batch)).to(dev)

    def step(X, Y):
        emb = C[X]
        h = torch.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)
        loss = F.cross_entropy(h @ W2 + b2, Y)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.1 * p.grad
        return loss
    return _synced(torch, _compiled(torch, step, system), X, Y)


def _variants(make, s, small, torch_compile=True):
    out = [Variant("stepjit-cuda", lambda: make("stepjit", s), lambda: no_gpu(small)),
           Variant("torch-cuda-eager", lambda: make("torch", s), lambda: no_torch_cuda(small))]
    if torch_compile:
        out.append(Variant("torch.compile-cuda", lambda: make("torch.compile", s),
                           lambda: no_torch_cuda(small)))
    return out


def build(small=False):
    """The GPU cases at full size, or (small=True) shrunk for the CUDA simulator."""
    s = SMALL if small else Sizes()
    tag = " (small sizes)" if small else ""
    two_layer = Case(
        name="cuda_two_layer",
        description=f"two-layer step N={s.n} D_in={s.d_in} H={s.h} D_out={s.d_out} on the GPU{tag}",
        variants=_variants(_two_layer, s, small), baseline="stepjit-cuda", rtol=1e-3)
    adam = Case(
        name="cuda_adam",
        description=f"Adam over {s.adam:,} float32 parameters vs a device copy of the same bytes{tag}",
        variants=[Variant("device-copy", lambda: _copy(s), lambda: no_gpu(small)),
                  *_variants(_adam, s, small, torch_compile=False)],
        baseline="device-copy", targets={"stepjit-cuda": round(1 / 0.7, 2)}, rtol=1e-3)
    mnist = Case(
        name="cuda_mnist_mlp",
        description=f"MLP {'-'.join(map(str, s.mnist))}, batch {s.mnist_batch}, "
                    f"CrossEntropyLoss, Adam{tag}",
        variants=_variants(_mnist_mlp, s, small), baseline="stepjit-cuda", rtol=1e-3)
    makemore = Case(
        name="cuda_makemore_mlp",
        description=f"makemore MLP: C[X] {s.mm_vocab}x{s.mm_embed}, block {s.mm_block}, "
                    f"tanh {s.mm_hidden}, cross_entropy, SGD, batch {s.mm_batch}{tag}",
        variants=_variants(_makemore_mlp, s, small), baseline="stepjit-cuda", rtol=1e-3)
    return [two_layer, adam, mnist, makemore]


CASES = build()
