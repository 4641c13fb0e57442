"""Run under `mpiexec -n 2 python ddp.py MODE DTYPE`: DistributedDataParallel training of the
MNIST-shaped MLP (784-256-128-10, CrossEntropyLoss, SGD with momentum) for 20 steps, each rank
on its half of a global batch, against one process training on the whole global batch from
the same initial values (computed on every rank, without MPI). MODE is eager or compiled."""
import sys

import numpy as np

import stepjit as torch
import stepjit.distributed as dist
import stepjit.nn as nn
from stepjit.nn.parallel import DistributedDataParallel as DDP

MODE, DTYPE = sys.argv[1], getattr(torch, sys.argv[2])
STEPS, GLOBAL_BATCH = 20, 16
TOL = {torch.float64: 1e-10, torch.float32: 2e-5}[DTYPE]

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()
local = GLOBAL_BATCH // size


def model():
    torch.manual_seed(rank)    # different per rank: DDP must broadcast rank 0's values
    m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                      nn.Linear(128, 10)).to(DTYPE)
    return m


def data(step):
    rng = np.random.default_rng(step)
    x = rng.standard_normal((GLOBAL_BATCH, 784)).astype(np.dtype(DTYPE.name))
    y = rng.integers(0, 10, GLOBAL_BATCH)
    return torch.from_numpy(x), torch.from_numpy(y)


def train(net, params, batches, compiled):
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss
    run = torch.compile(step) if compiled else step
    losses = [float(run(x, y).item()) for x, y in batches]
    if compiled:   # the gradient averaging is in the graph: one all_reduce per bucket
        nodes = [n.prim.name for n in run.traces[-1].graph.nodes]
        assert nodes.count("all_reduce") == len(net._buckets), nodes
        assert len(run.traces) <= 3, len(run.traces)
    return losses


ddp = DDP(model())
start = [p.detach().numpy().copy() for p in ddp.module.parameters()]
gathered = [torch.zeros(p.shape, dtype=DTYPE) for p in range(size) for p in [ddp.module[0].weight]]
dist.all_gather(gathered, ddp.module[0].weight.detach())
assert all(np.array_equal(g.numpy(), gathered[0].numpy()) for g in gathered)   # rank 0's values

mine = [(x[rank * local:(rank + 1) * local], y[rank * local:(rank + 1) * local])
        for x, y in map(data, range(STEPS))]
train(ddp, ddp.parameters(), mine, MODE == "compiled")

ref = model()
with torch.no_grad():
    for p, a in zip(ref.parameters(), start):
        p.copy_(torch.from_numpy(a))
train(ref, ref.parameters(), [data(s) for s in range(STEPS)], compiled=False)
for (name, p), q in zip(ddp.module.named_parameters(), ref.parameters()):
    np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=TOL, atol=TOL,
                               err_msg=name)
print(f"ok ddp {MODE} {DTYPE.name} rank {rank}", flush=True)
