"""DistributedDataParallel: one model replica per process, gradients averaged after backward.

As PyTorch's reducer does, in small:
- construction broadcasts rank 0's parameters and buffers, so every replica starts equal;
- parameters are put in buckets (reverse registration order, one dtype per bucket, about
  `bucket_cap_mb` each, the first 1 MB) once;
- a hook on every parameter notes that its gradient arrived and queues one end-of-backward
  callback (autograd.gradients.queue_callback); the callback packs each bucket's gradients
  into one flat tensor, all-reduces it (op AVG: one MPI Allreduce per bucket) and writes the
  averages back into the `.grad`s;
- `no_sync()` skips that, so gradients accumulate locally until the next synced backward,
  which reduces the accumulated sum;
- with find_unused_parameters=False, a parameter that got no gradient makes the next forward
  raise PyTorch's error; with True, each parameter's use is all-reduced too, and a parameter no
  rank used keeps its gradient (None) untouched.

Everything is written with tensor ops and the all_reduce primitive, so a compiled step that
runs a DDP model's forward and backward records the packing, the collectives and the unpacking
as graph nodes (fused with the kernels around them) instead of calling MPI from Python.
Buffers are re-broadcast at each forward (broadcast_buffers=True) by an all_reduce of rank
0's values against zeros, which works in compiled steps too.
"""
from __future__ import annotations

import contextlib

from ... import dispatch, distributed as dist
from ...autograd.gradients import queue_callback
from ...autograd.grad_mode import no_grad
from ...ir.primitives import collective as C
from ..modules.module import Module
from ...ops.creation import tensor, zeros
from ...ops.shape import cat

FIRST_BUCKET_BYTES = 1 << 20

UNUSED_ERROR = (
    "Expected to have finished reduction in the prior iteration before starting a new one. "
    "This error indicates that your module has parameters that were not used in producing loss. "
    "You can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by \n"
    "making sure all `forward` function outputs participate in calculating loss.\n"
    "Parameter indices which did not receive grad for rank {rank}: {indices}")


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **unused):
        super().__init__()
        if process_group is not None:
            raise NotImplementedError("DistributedDataParallel(process_group=...): stepjit has "
                                      "one process group, the world")
        group = dist._group()
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self._group = group
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have "
                               "any parameter that requires a gradient.")
        self._ddp_params = params
        self._buckets = _bucket(params, bucket_cap_mb or 25)
        self._ready = set()
        self._queued = False
        self._pending_error = None
        self._sync_module_states()
        for i, p in enumerate(params):
            p.register_hook(self._hook(i))

    # -- construction: every replica starts from rank 0's state --------------------------
    def _sync_module_states(self):
        with no_grad():
            for t in [*self._ddp_params, *self.module.buffers()]:
                dist.broadcast(t, src=0)

    # -- forward --------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._pending_error is not None:
            error, self._pending_error = self._pending_error, None
            raise RuntimeError(error)
        self._ready = set()
        self._queued = False
        if self.broadcast_buffers:
            self._broadcast_buffers()
        return self.module(*inputs, **kwargs)

    def _broadcast_buffers(self):
        """Rank 0's buffers to every rank, as an all_reduce of them against zeros (a graph
        node inside compiled steps, where a plain broadcast cannot run)."""
        with no_grad():
            for b in self.module.buffers():
                if b.is_floating_point() or b.dtype.name in ("int64", "int32"):
                    mine = b if self._group.rank == 0 else b * 0
                    b.copy_(dispatch.apply(C.all_reduce, mine, op="sum"))

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate locally inside; the first synced backward after reduces them."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # -- backward -------------------------------------------------------------------------
    def _hook(self, index):
        def hook(grad):
            if self.require_backward_grad_sync:
                self._ready.add(index)
                if not self._queued:
                    self._queued = True
                    queue_callback(self._reduce)
            return None
        return hook

    def _reduce(self):
        self._queued = False
        params = self._ddp_params
        used = self._ready
        if not self.find_unused_parameters and len(used) < len(params):
            missing = sorted(set(range(len(params))) - used)
            self._pending_error = UNUSED_ERROR.format(rank=self._group.rank, indices=missing)
            return
        globally_used = self._globally_used(used) if self.find_unused_parameters else None
        with no_grad():
            for bucket in self._buckets:
                self._reduce_bucket([params[i] for i in bucket], bucket, globally_used)

    def _globally_used(self, used):
        mask = tensor([1 if i in used else 0 for i in range(len(self._ddp_params))])
        return dispatch.apply(C.all_reduce, mask, op="max").tolist()

    def _reduce_bucket(self, params, indices, globally_used):
        flat = cat([(p.grad if p.grad is not None else zeros(p.shape, dtype=p.dtype,
                                                             device=p.device)).reshape(-1)
                    for p in params])
        flat = dispatch.apply(C.all_reduce, flat, op="avg")
        offset = 0
        for p, i in zip(params, indices):
            n = p.numel()
            avg = flat[offset:offset + n].view(p.shape)
            offset += n
            if globally_used is not None and not globally_used[i]:
                continue
            if p.grad is None:
                p.grad = avg.clone()
            else:
                p.grad.copy_(avg)

    # -- the wrapped module's surface -----------------------------------------------------
    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["module"], name)


def _bucket(params, cap_mb):
    """Parameter indices in buckets: reverse order (the order gradients tend to arrive in),
    one dtype per bucket, the first bucket up to 1 MB (or cap_mb if smaller) and the others
    up to cap_mb."""
    buckets, current, size, dtype = [], [], 0, None
    cap = min(FIRST_BUCKET_BYTES, int(cap_mb * (1 << 20)))
    for i in reversed(range(len(params))):
        p = params[i]
        nbytes = p.numel() * p.element_size()
        if current and (p.dtype is not dtype or size + nbytes > cap):
            buckets.append(current)
            current, size, cap = [], 0, int(cap_mb * (1 << 20))
        current.append(i)
        size += nbytes
        dtype = p.dtype
    if current:
        buckets.append(current)
    return buckets
