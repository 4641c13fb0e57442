"""Run under `mpiexec -n 2`: no_sync accumulation, unused parameters, buckets, buffers."""
import numpy as np

import stepjit as torch
import stepjit.distributed as dist
import stepjit.nn as nn
from stepjit.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()


def batch(r, k):
    g = np.random.default_rng(100 * r + k)
    return torch.from_numpy(g.standard_normal((4, 5))), torch.from_numpy(g.standard_normal((4, 2)))


def loss_of(m, x, y):
    return ((m(x) - y) ** 2).mean()


# -- no_sync: two local backwards accumulate unsynchronized, the third reduces the sum ------
torch.manual_seed(0)
net = nn.Linear(5, 2).double()
ddp = DDP(net, bucket_cap_mb=1e-5)         # tiny cap: weight and bias in separate buckets
assert len(ddp._buckets) == 2, ddp._buckets
with ddp.no_sync():
    for k in range(2):
        loss_of(ddp, *batch(rank, k)).backward()
local = torch.nn.Linear(5, 2).double()
with torch.no_grad():
    for p, q in zip(local.parameters(), net.parameters()):
        p.copy_(q)
for k in range(2):
    loss_of(local, *batch(rank, k)).backward()
for p, q in zip(net.parameters(), local.parameters()):   # unsynchronized: this rank's own sum
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)
loss_of(ddp, *batch(rank, 2)).backward()                  # synced: the average of every sum
want = []
for q in local.parameters():
    q.grad = None
for r in range(size):
    for k in range(3):
        loss_of(local, *batch(r, k)).backward()
for p, q in zip(net.parameters(), local.parameters()):
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy() / size, rtol=1e-12)
print(f"ok no_sync rank {rank}", flush=True)


# -- unused parameters ------------------------------------------------------------------
class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 1)
        self.b = nn.Linear(3, 1)

    def forward(self, x):
        return self.a(x)


x = torch.ones(2, 3)
strict = DDP(TwoHeads())
strict(x).sum().backward()
try:
    strict(x)
except RuntimeError as e:
    assert "find_unused_parameters=True" in str(e) and "indices" in str(e), str(e)
    print(f"ok unused parameter error rank {rank}", flush=True)
else:
    raise AssertionError("no error for a parameter without gradient")

loose = DDP(TwoHeads(), find_unused_parameters=True)
loose(x).sum().backward()
assert loose.module.b.weight.grad is None and loose.module.a.weight.grad is not None
np.testing.assert_allclose(loose.module.a.weight.grad.numpy(), np.full((1, 3), 2.0))
print(f"ok find_unused_parameters rank {rank}", flush=True)


# -- buffers: rank 0's at construction and at every forward -----------------------------
class WithBuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.register_buffer("count", torch.full((2,), float(rank + 5)))

    def forward(self, x):
        self.count += 1
        return self.lin(x) + self.count


wb = DDP(WithBuffer())
np.testing.assert_array_equal(wb.module.count.numpy(), [5.0, 5.0])
wb.module.count.fill_(rank * 10.0)     # the ranks drift apart ...
wb(torch.ones(1, 2))                   # ... and the forward starts from rank 0's again
np.testing.assert_array_equal(wb.module.count.numpy(), [1.0, 1.0])
print(f"ok buffers rank {rank}", flush=True)

dist.destroy_process_group()
