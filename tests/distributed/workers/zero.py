"""Run under `mpiexec -n 2`: ZeroRedundancyOptimizer against one optimizer over every parameter."""
import numpy as np

import stepjit as torch
import stepjit.distributed as dist
import stepjit.nn as nn
from stepjit.distributed.optim import ZeroRedundancyOptimizer

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()


def model():
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3), nn.Linear(3, 1)).double()


def groups(m):
    decay = [p for p in m.parameters() if p.dim() >= 2]
    rest = [p for p in m.parameters() if p.dim() < 2]
    return [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}]


def train(m, opt, steps):
    for k in range(steps):
        g = np.random.default_rng(k)           # the same (already averaged) batch on each rank
        x, y = torch.from_numpy(g.standard_normal((8, 6))), torch.from_numpy(g.standard_normal((8, 1)))
        opt.zero_grad()
        ((m(x) - y) ** 2).mean().backward()
        for group in opt.param_groups:
            group["lr"] = 0.05 / (k + 1)
        opt.step()


plain, sharded = model(), model()
reference = torch.optim.AdamW(groups(plain), lr=0.05, betas=(0.9, 0.95))
zero = ZeroRedundancyOptimizer(**groups(sharded)[0], optimizer_class=torch.optim.AdamW,
                               lr=0.05, betas=(0.9, 0.95))
zero.add_param_group(groups(sharded)[1])
train(plain, reference, 4)
train(sharded, zero, 4)
for p, q in zip(plain.parameters(), sharded.parameters()):
    np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-12, atol=1e-14)
every = [p for g in zero.param_groups for p in g["params"]]
mine = {id(p) for g in zero.optim.param_groups for p in g["params"]}
assert 0 < len(mine) < len(every), (len(mine), len(every))      # each rank keeps only its share
assert set(map(id, zero.optim.state)) == mine
owned = torch.tensor([1.0 if id(p) in mine else 0.0 for p in every], dtype=torch.float64)
dist.all_reduce(owned)
assert owned.tolist() == [1.0] * len(every), owned       # every parameter has exactly one owner
assert zero.param_groups[0]["lr"] == 0.05 / 4 and zero.optim.param_groups[1]["lr"] == 0.05 / 4
print(f"ok zero step rank {rank}", flush=True)

try:
    zero.state_dict()
except RuntimeError as e:
    assert "consolidate_state_dict" in str(e)
else:
    raise AssertionError("state_dict before consolidate_state_dict did not raise")
zero.consolidate_state_dict(to=0)
if rank == 0:
    whole, want = zero.state_dict(), reference.state_dict()
    assert sorted(whole["state"]) == sorted(want["state"])
    for i, s in want["state"].items():
        for k, v in s.items():
            np.testing.assert_allclose(np.asarray(whole["state"][i][k]), np.asarray(v), rtol=1e-12)
    assert [g["params"] for g in whole["param_groups"]] == [g["params"] for g in want["param_groups"]]
print(f"ok zero state_dict rank {rank}", flush=True)

# every rank loads the reference's whole state and trains on: still equal to the reference
again = model()
with torch.no_grad():
    for p, q in zip(again.parameters(), plain.parameters()):
        p.copy_(q)
resumed = ZeroRedundancyOptimizer(groups(again), optimizer_class=torch.optim.AdamW, lr=0.05,
                                  betas=(0.9, 0.95))
resumed.load_state_dict(reference.state_dict())
train(plain, reference, 2)
train(again, resumed, 2)
for p, q in zip(plain.parameters(), again.parameters()):
    np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-12, atol=1e-14)
print(f"ok zero load_state_dict rank {rank}", flush=True)
dist.destroy_process_group()
