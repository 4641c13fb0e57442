"""`stepjit.distributed`: data-parallel training over MPI, shaped like `torch.distributed`.

    import stepjit.distributed as dist
    dist.init_process_group(backend="mpi")         # under `mpiexec -n 2` or `stepjit run -n 2`
    dist.all_reduce(t, op=dist.ReduceOp.SUM)       # in place, as PyTorch

Ranks and sizes come from MPI. Collectives work in place on float32/float64/int64 tensors as
PyTorch's do; CUDA tensors go through host buffers. `all_reduce` is an IR primitive
(stepjit/ir/primitives/collective.py): inside a compiled step it is a node of the graph, with
its gradient. The other collectives run eagerly; inside a compiled step they raise, saying so.
See docs/distributed.md.
"""
from __future__ import annotations


from .. import config, dispatch
from ..autograd.grad_mode import no_grad
from ..ir.primitives import collective as C
from .backend import INSTALL_HINT, MPIGroup, available, install_abort_hook
from .sampler import DistributedSampler  # noqa: F401
from . import rpc  # noqa: F401
from ..tensor import Tensor
from ..ops.creation import from_numpy

__all__ = ["init_process_group", "is_initialized", "is_available", "get_rank", "get_world_size",
           "get_backend", "barrier", "destroy_process_group", "ReduceOp", "all_reduce",
           "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter",
           "reduce_scatter_tensor", "reduce", "gather", "scatter", "DistributedSampler"]

BACKENDS = ("mpi", "gloo")   # gloo: PyTorch's CPU backend name, served by MPI here


class ReduceOp:
    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"


class _Work:
    """What `async_op=True` returns: the collective has already completed."""

    def wait(self, timeout=None):
        return True

    def is_completed(self):
        return True


def is_available() -> bool:
    return available()


def is_initialized() -> bool:
    return C.World.group is not None


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the job's process group. Rank and world size come from MPI (the launcher);
    `rank`/`world_size` arguments and the RANK/WORLD_SIZE environment variables of `env://`
    must agree with them when given."""
    if is_initialized():
        raise RuntimeError("trying to initialize the default process group twice!")
    if str(backend).lower() not in BACKENDS:
        raise ValueError(f"backend {backend!r} is not available in stepjit; it runs over MPI: "
                         "use backend='mpi' ('gloo' is accepted as a synonym)")
    group = MPIGroup()
    env_rank, env_size = config.launcher_rank()
    _agree("rank", rank, env_rank, group.rank)
    _agree("world_size", world_size, env_size, group.size)
    C.set_world(group)
    install_abort_hook(group)


def _agree(name, arg, env, actual):
    for given, where in ((arg, "argument"), (env, "environment variable")):
        if given is not None and int(given) != -1 and int(given) != actual:
            raise ValueError(f"init_process_group: {name}={given} (from the {where}) but MPI "
                             f"says {actual}; stepjit takes ranks from the MPI launcher: start "
                             "the processes with `stepjit run -n N script.py` or mpiexec "
                             "(processes started by torch.multiprocessing.spawn are not one "
                             "MPI job)")


def destroy_process_group(group=None) -> None:
    g = C.World.group
    if g is not None:
        g.barrier()
        g.free()
    C.set_world(None)


def _group():
    if not available():
        raise ImportError(INSTALL_HINT)
    return C.world()


def get_rank(group=None) -> int:
    return _group().rank


def get_world_size(group=None) -> int:
    return _group().size


def get_backend(group=None) -> str:
    _group()
    return "mpi"


def barrier(group=None, async_op=False, device_ids=None):
    _group().barrier()
    return _Work() if async_op else None


# -- collectives ------------------------------------------------------------------------
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` across ranks, in place (a node of the graph inside a compiled step)."""
    _check(tensor, "all_reduce")
    with no_grad():
        tensor.copy_(dispatch.apply(C.all_reduce, tensor, op=_op(op)))
    return _Work() if async_op else None


def broadcast(tensor, src=0, group=None, async_op=False):
    g = _eager(tensor, "broadcast")
    _write(tensor, g.broadcast(_host(tensor, g, "broadcast", src), src))
    return _Work() if async_op else None


def all_gather(tensor_list, tensor, group=None, async_op=False):
    g = _eager(tensor, "all_gather")
    _check_list(tensor_list, g.size, tensor, "all_gather", "tensor_list")
    stacked = g.allgather_array(_host(tensor, g, "all_gather"))
    for out, part in zip(tensor_list, stacked):
        _write(out, part)
    return _Work() if async_op else None


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    g = _eager(input_tensor, "all_gather_into_tensor")
    stacked = g.allgather_array(_host(input_tensor, g, "all_gather_into_tensor"))
    _write(output_tensor, stacked.reshape(tuple(output_tensor.shape)))
    return _Work() if async_op else None


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    import numpy as np
    g = _eager(output, "reduce_scatter")
    _check_list(input_list, g.size, output, "reduce_scatter", "input_list")
    stacked = np.stack([_host(t, g, "reduce_scatter", _op(op)) for t in input_list])
    _write(output, g.reduce_scatter(stacked, _op(op)))
    return _Work() if async_op else None


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    g = _eager(output, "reduce_scatter_tensor")
    stacked = _host(input, g, "reduce_scatter_tensor", _op(op))
    _write(output, g.reduce_scatter(stacked.reshape((g.size,) + tuple(output.shape)), _op(op)))
    return _Work() if async_op else None


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False):
    g = _eager(tensor, "reduce")
    out = g.reduce(_host(tensor, g, "reduce", dst, _op(op)), dst, _op(op))
    if g.rank == dst:
        _write(tensor, out)
    return _Work() if async_op else None


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    g = _eager(tensor, "gather")
    if g.rank == dst:
        _check_list(gather_list, g.size, tensor, "gather", "gather_list")
    stacked = g.gather(_host(tensor, g, "gather", dst), dst)
    if g.rank == dst:
        for out, part in zip(gather_list, stacked):
            _write(out, part)
    return _Work() if async_op else None


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    import numpy as np
    g = _eager(tensor, "scatter")
    if g.rank == src:
        _check_list(scatter_list, g.size, tensor, "scatter", "scatter_list")
        stacked = np.stack([_array(t) for t in scatter_list])
    else:
        stacked = None
    C.check_agreement(g, "scatter", (tuple(tensor.shape), _array(tensor).dtype.name, src))
    _write(tensor, g.scatter(stacked, tuple(tensor.shape), _array(tensor).dtype, src))
    return _Work() if async_op else None


# -- helpers ----------------------------------------------------------------------------
def _op(op) -> str:
    name = str(op).lower().rsplit(".", 1)[-1]
    if name not in C.OPS:
        raise ValueError(f"unknown reduce op {op!r}; use dist.ReduceOp.SUM, AVG, MAX, MIN or "
                         "PRODUCT")
    return name


def _check(tensor, name):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}(): argument 'tensor' must be a Tensor, not "
                        f"{type(tensor).__name__}")
    if tensor.dtype.name not in ("float32", "float64", "int64", "int32"):
        raise TypeError(f"{name}(): tensors of dtype {tensor.dtype.name} are not supported; "
                        "use float32, float64, int32 or int64")


def _eager(tensor, name):
    _check(tensor, name)
    if dispatch.MODE.tracer is not None:
        raise NotImplementedError(
            f"dist.{name} inside a compiled step is not supported yet (all_reduce is): call it "
            "outside the function given to stepjit.compile")
    return _group()


def _array(tensor):
    return tensor.detach().cpu().numpy()


def _host(tensor, group, name, *attrs):
    """The tensor's values on the host, after every rank agreed on shape, dtype and args."""
    array = _array(tensor)
    C.check_agreement(group, name, (tuple(array.shape), array.dtype.name, *attrs))
    return array


def _write(tensor, array):
    """Store a collective's result into `tensor` in place (version bumped, device kept)."""
    import numpy as np
    with no_grad():
        tensor.copy_(from_numpy(np.array(array, order="C")).to(tensor.device))


def _check_list(tensors, size, like, name, arg):
    if tensors is None or len(tensors) != size:
        got = "None" if tensors is None else f"{len(tensors)} tensors"
        raise ValueError(f"{name}(): {arg} must hold one tensor per rank ({size}), got {got}")
    for t in tensors:
        if tuple(t.shape) != tuple(like.shape) or t.dtype is not like.dtype:
            raise ValueError(f"{name}(): every tensor of {arg} must be {like.dtype.name}"
                             f"{list(like.shape)}, got {t.dtype.name}{list(t.shape)}")
