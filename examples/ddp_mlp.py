"""Data-parallel training with DistributedDataParallel, as PyTorch's DDP tutorial does it.

    stepjit run -n 2 examples/ddp_mlp.py        # two processes over MPI
    python examples/ddp_mlp.py                  # one process works too

Every rank builds the same model (DDP broadcasts rank 0's weights), reads its own share of
each epoch through DistributedSampler, and DDP averages the gradients after backward, so the
ranks stay identical. The step is compiled: the gradient all-reduce is part of the graph.
"""
import stepjit as torch
import stepjit.distributed as dist
import stepjit.nn as nn
from stepjit.nn.parallel import DistributedDataParallel as DDP
from stepjit.distributed import DistributedSampler


def main(epochs=3, batch_size=32):
    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    x = torch.randn(512, 20)
    y = (x[:, :5].sum(1) > 0).long()          # a learnable rule
    model = DDP(nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2)))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    @torch.compile
    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    sampler = DistributedSampler(range(len(x)), shuffle=True, seed=0, drop_last=True)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        order = torch.tensor(list(sampler))
        for i in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[i:i + batch_size]
            loss = step(x[idx], y[idx])
        total = loss.detach().clone()
        dist.all_reduce(total, op=dist.ReduceOp.AVG)
        if rank == 0:
            print(f"epoch {epoch}: loss {total.item():.4f} (mean over {world} ranks)")
    dist.destroy_process_group()
    return float(total.item())


if __name__ == "__main__":
    main()
