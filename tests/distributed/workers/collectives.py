"""Run under `mpiexec -n 2`: every collective against NumPy, on every dtype it supports.
Prints one 'ok <name>' line per check; any failure raises (and aborts the job)."""
import numpy as np

import stepjit as torch
import stepjit.distributed as dist

dist.init_process_group(backend="mpi")
rank, size = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "mpi"


def value(r, dtype, shape=(2, 3)):
    """What rank r contributes: distinct per rank and element, exact in every dtype."""
    return (np.arange(np.prod(shape)).reshape(shape) * (r + 1) + r).astype(dtype)


def all_ranks(dtype, shape=(2, 3)):
    return np.stack([value(r, dtype, shape) for r in range(size)])


def ok(name):
    print(f"ok {name} rank {rank}", flush=True)


for dtype in (np.float32, np.float64, np.int64):
    mine = value(rank, dtype)
    ref = all_ranks(dtype)
    reductions = {"SUM": ref.sum(0), "MAX": ref.max(0), "MIN": ref.min(0), "PRODUCT": ref.prod(0)}
    if dtype != np.int64:
        reductions["AVG"] = ref.sum(0) / dtype(size)
    for op, want in reductions.items():
        t = torch.from_numpy(mine.copy())
        version = t._version.value
        assert dist.all_reduce(t, op=getattr(dist.ReduceOp, op)) is None
        np.testing.assert_array_equal(t.numpy(), want.astype(dtype))
        assert t._version.value > version    # written in place, as an in-place op
        ok(f"all_reduce {op} {np.dtype(dtype).name}")

    t = torch.from_numpy(mine.copy())
    dist.broadcast(t, src=1)
    np.testing.assert_array_equal(t.numpy(), value(1, dtype))
    ok(f"broadcast {np.dtype(dtype).name}")

    outs = [torch.zeros(2, 3, dtype=t.dtype) for _ in range(size)]
    dist.all_gather(outs, torch.from_numpy(mine.copy()))
    for r, o in enumerate(outs):
        np.testing.assert_array_equal(o.numpy(), value(r, dtype))
    big = torch.zeros(size * 2, 3, dtype=t.dtype)
    dist.all_gather_into_tensor(big, torch.from_numpy(mine.copy()))
    np.testing.assert_array_equal(big.numpy(), ref.reshape(size * 2, 3))
    ok(f"all_gather {np.dtype(dtype).name}")

    chunks = [torch.from_numpy(value(rank, dtype) * (k + 1)) for k in range(size)]
    out = torch.zeros(2, 3, dtype=t.dtype)
    dist.reduce_scatter(out, chunks, op=dist.ReduceOp.SUM)
    np.testing.assert_array_equal(out.numpy(), ref.sum(0) * (rank + 1))
    flat = torch.from_numpy(np.concatenate([c.numpy() for c in chunks]))
    out2 = torch.zeros(2, 3, dtype=t.dtype)
    dist.reduce_scatter_tensor(out2, flat)
    np.testing.assert_array_equal(out2.numpy(), ref.sum(0) * (rank + 1))
    ok(f"reduce_scatter {np.dtype(dtype).name}")

    t = torch.from_numpy(mine.copy())
    dist.reduce(t, dst=0, op=dist.ReduceOp.MAX)
    np.testing.assert_array_equal(t.numpy(), ref.max(0) if rank == 0 else mine)
    ok(f"reduce {np.dtype(dtype).name}")

    gl = [torch.zeros(2, 3, dtype=t.dtype) for _ in range(size)] if rank == 1 else None
    dist.gather(torch.from_numpy(mine.copy()), gl, dst=1)
    if rank == 1:
        for r, o in enumerate(gl):
            np.testing.assert_array_equal(o.numpy(), value(r, dtype))
    ok(f"gather {np.dtype(dtype).name}")

    t = torch.zeros(2, 3, dtype=torch.from_numpy(mine).dtype)
    sl = [torch.from_numpy(value(r, dtype) + 7) for r in range(size)] if rank == 0 else None
    dist.scatter(t, sl, src=0)
    np.testing.assert_array_equal(t.numpy(), value(rank, dtype) + 7)
    ok(f"scatter {np.dtype(dtype).name}")

# A 0-d tensor (a loss) stays 0-d.
loss = torch.tensor(float(rank + 1), dtype=torch.float64)
dist.all_reduce(loss, op=dist.ReduceOp.AVG)
assert loss.shape == () and loss.item() == sum(range(1, size + 1)) / size
ok("0-d all_reduce")

# async_op returns a handle whose wait() is True; barrier works.
work = dist.all_reduce(torch.ones(3), async_op=True)
assert work.wait() and work.is_completed()
dist.barrier()
ok("async_op barrier")

# A mismatch across ranks is an error on every rank, naming both: not garbage, not a hang.
try:
    dist.all_reduce(torch.ones(3 + rank))
except Exception as e:
    msg = str(e)
    assert "rank 0: float32[3]" in msg and "rank 1: float32[4]" in msg, msg
    ok("mismatched shapes raise")
else:
    raise AssertionError("all_reduce of mismatched shapes did not raise")
try:
    dist.broadcast(torch.ones(3, dtype=torch.float64 if rank else torch.float32), src=0)
except Exception as e:
    assert "rank 0: float32[3]" in str(e) and "rank 1: float64[3]" in str(e), str(e)
    ok("mismatched dtypes raise")
else:
    raise AssertionError("broadcast of mismatched dtypes did not raise")

# The functional form is differentiable: d/dx sum(all_reduce(x * w)) = size * w.
from stepjit.distributed.nn.functional import all_reduce as f_all_reduce  # noqa: E402
x = torch.ones(3, dtype=torch.float64, requires_grad=True)
w = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64) * (rank + 1)
f_all_reduce(x * w).sum().backward()
np.testing.assert_array_equal(x.grad.numpy(), size * w.numpy())   # sum of ones over ranks
ok("all_reduce gradient")

dist.destroy_process_group()
assert not dist.is_initialized()
ok("destroy")
