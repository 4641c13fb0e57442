"""CUDA cases (issue 7), run only on a real NVIDIA GPU; skipped, saying why, elsewhere.

cuda_two_layer: the two-layer step (mm, relu, mm, squared error, backward, SGD
update, zero the grads) at N=4096, D_in=4096, H=4096, D_out=1024, float32, compiled
with stepjit (backend "cuda") and, when PyTorch with CUDA is installed, PyTorch
eager on the same GPU.

cuda_adam: Adam over 100 million float32 parameters (the step of
benchmarks/cases/adam.py, compiled on CUDA). Its baseline is a device-to-device
copy moving the same bytes as the fused Adam kernel must (read w, g, m, v; write
w, m, v: 28 bytes per parameter), measured in the same run, so the ratio is the
fraction of the device's copy bandwidth Adam reaches: target >= 70%, i.e. a step
at most 1/0.7 = 1.43x the copy. (The copy variant has no loss: it reports
stepjit's, so only stepjit and PyTorch are checked against each other.)

Every timed call ends with a device synchronize, so the time is the GPU's.
"""
import numpy as np

from ..harness import Case, Variant

N, D_IN, H, D_OUT = 4096, 4096, 4096, 1024
ADAM_SIZE = 100_000_000
LR = 1e-6


def no_gpu():
    import stepjit
    if not stepjit.cuda.is_available():
        return "no CUDA GPU available (numba.cuda.is_available() is False)"
    if stepjit.cuda.is_simulator():
        return "NUMBA_ENABLE_CUDASIM=1: the CUDA simulator is not a GPU, timings would mean nothing"
    return None


def no_torch_cuda():
    why = no_gpu()
    if why:
        return why
    try:
        import torch
    except ImportError:
        return "torch is not installed (optional baseline)"
    return None if torch.cuda.is_available() else "torch has no CUDA device"


def _two_layer(torch, compiled):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s, dtype=np.float32) * 0.01
              for s in ((N, D_IN), (N, D_OUT), (D_IN, H), (H, D_OUT))]
    x, y, w1, w2 = [torch.from_numpy(a).to("cuda") for a in arrays]
    w1.requires_grad_()
    w2.requires_grad_()

    def step(x, y):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1 -= LR * w1.grad
            w2 -= LR * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
        return loss

    f = torch.compile(step, backend="cuda") if compiled else step

    def call():
        loss = f(x, y)
        torch.cuda.synchronize()
        return loss
    return call


def _stepjit_two_layer():
    import stepjit
    return _two_layer(stepjit, compiled=True)


def _torch_two_layer():
    import torch
    return _two_layer(torch, compiled=False)


def _adam(torch, compiled):
    w = torch.ones(ADAM_SIZE, device="cuda", requires_grad=True)
    g = torch.full((ADAM_SIZE,), 0.5, device="cuda")
    opt = torch.optim.Adam([w], lr=1e-3)

    def step(w, g):
        loss = (w * g).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    f = torch.compile(step, backend="cuda") if compiled else step

    def call():
        loss = f(w, g)
        torch.cuda.synchronize()
        return loss
    return call


def _copy():
    import stepjit
    from stepjit import cuda as dev
    from stepjit.runtime.cuda import copy_into
    n = ADAM_SIZE * 28 // 8          # float32 elements: read + write = 28 bytes per parameter
    src, dst = dev.empty((n,), np.float32), dev.empty((n,), np.float32)
    copy_into(src, 0.5)
    loss = float(ADAM_SIZE) * 0.5      # what the Adam variants' first loss is

    class _Loss:
        def item(self):
            return loss

    def call():
        dst.copy_to_device(src)
        stepjit.cuda.synchronize()
        return _Loss()
    return call


TWO_LAYER = Case(
    name="cuda_two_layer",
    description=f"two-layer step N={N} D_in={D_IN} H={H} D_out={D_OUT} on the GPU",
    variants=[Variant("stepjit-cuda", _stepjit_two_layer, no_gpu),
              Variant("torch-cuda-eager", _torch_two_layer, no_torch_cuda)],
    baseline="stepjit-cuda", rtol=1e-3)

ADAM = Case(
    name="cuda_adam",
    description="Adam over 100M float32 parameters vs a device copy of the same bytes",
    variants=[Variant("device-copy", _copy, no_gpu),
              Variant("stepjit-cuda", lambda: _adam(__import__("stepjit"), True), no_gpu),
              Variant("torch-cuda-eager", lambda: _adam(__import__("torch"), False), no_torch_cuda)],
    baseline="device-copy", targets={"stepjit-cuda": round(1 / 0.7, 2)}, rtol=1e-3)

CASES = [TWO_LAYER, ADAM]
