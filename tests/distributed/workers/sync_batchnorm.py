"""Run under `mpiexec -n 2`: SyncBatchNorm on each rank's part of a batch (the ranks' parts of
different sizes) equals BatchNorm on the whole batch: outputs, input and parameter
gradients (summed over ranks, as DDP's allreduce would), running statistics; eager and
compiled."""
import sys

import numpy as np

import stepjit as torch
import stepjit.distributed as dist
import stepjit.nn as nn

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()
rng = np.random.default_rng(7)
whole = rng.standard_normal((5, 3, 4, 2)) * 2 + 1
cot = rng.standard_normal(whole.shape)
parts = [slice(0, 2), slice(2, 5)]          # two samples on rank 0, three on rank 1
mine = parts[rank]


def make(cls):
    m = cls(3, momentum=0.3).double()
    with torch.no_grad():
        m.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
        m.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    return m


def step(m, x, c):
    y = m(x)
    (y * c).sum().backward()
    return y.detach()


ref = make(nn.BatchNorm2d)
x_all = torch.tensor(whole, requires_grad=True)
y_all = step(ref, x_all, torch.tensor(cot))

for mode in ("eager", "compiled"):
    sync = make(nn.SyncBatchNorm)
    run = step if mode == "eager" else torch.compile(step)
    for call in range(2 if mode == "compiled" else 1):
        sync.zero_grad()
        x = torch.tensor(whole[mine], requires_grad=True)
        y = run(sync, x, torch.tensor(cot[mine]))
    np.testing.assert_allclose(y.numpy(), y_all.numpy()[mine], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), x_all.grad.numpy()[mine], rtol=1e-9, atol=1e-12)
    for p, q in zip(sync.parameters(), ref.parameters()):
        total = p.grad.clone()
        dist.all_reduce(total)
        np.testing.assert_allclose(total.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)
    if mode == "compiled":
        assert run.stats()["fallbacks"] == 0, run.stats()
    else:
        np.testing.assert_allclose(sync.running_mean.numpy(), ref.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(sync.running_var.numpy(), ref.running_var.numpy(),
                                   rtol=1e-12)
    print(f"ok sync_batchnorm {mode} rank {rank}", flush=True)
sys.stdout.flush()
