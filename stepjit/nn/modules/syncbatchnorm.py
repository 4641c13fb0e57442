"""SyncBatchNorm: batch norm whose batch statistics are those of the whole job's batch.

On one process (no process group, or a group of one) it is BatchNorm over any input of two
or more dimensions, as PyTorch's. With several MPI processes (stepjit.distributed) each
process sums its inputs and their squares per channel, and one differentiable all_reduce
adds those sums and the element counts over every process:

    mean = sum x / n        var = sum x^2 / n - mean^2         (n: elements per channel, all ranks)

so the normalization, its gradient (through the all_reduce's own gradient, an all_reduce
of the cotangents) and the running statistics (unbiased var, n / (n - 1)) equal BatchNorm's
on the concatenated batch, with batches of different sizes on different ranks. PyTorch syncs
CUDA tensors only; stepjit's collectives are MPI on the host, so CPU tensors sync as well.
"""
from __future__ import annotations

from ... import distributed as dist
from ...autograd.grad_mode import no_grad
from ...distributed.nn.functional import all_reduce
from ...ops.creation import full
from ...ops.shape import cat
from .. import functional as F
from .normalization import _BatchNorm


class SyncBatchNorm(_BatchNorm):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def forward(self, input):
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:   # a cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.item())
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        running_mean = self.running_mean if keep else None
        running_var = self.running_var if keep else None
        if not (bn_training and self.training and _world_size() > 1):
            return F.batch_norm(input, running_mean, running_var, self.weight, self.bias,
                                bn_training, momentum, self.eps)
        return self._synced(input, running_mean, running_var, momentum)

    def _synced(self, x, running_mean, running_var, momentum):
        c = x.shape[1]
        dims = (0,) + tuple(range(2, x.ndim))
        count = full((1,), x.numel() // c, dtype=x.dtype, device=x.device)
        sums = all_reduce(cat([x.sum(dims), (x * x).sum(dims), count]))
        n = sums[2 * c]
        mean = sums[:c] / n
        var = sums[c:2 * c] / n - mean * mean
        shape = (1, c) + (1,) * (x.ndim - 2)
        out = (x - mean.reshape(shape)) * (var.reshape(shape) + self.eps).rsqrt()
        if self.weight is not None:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
                unbiased = var.detach() * (n.detach() / (n.detach() - 1))
                running_var.mul_(1 - momentum).add_(unbiased * momentum)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """module with every BatchNorm*d in it replaced by a SyncBatchNorm holding the same
        parameters and buffers (the same tensors), as PyTorch's."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = SyncBatchNorm(module.num_features, module.eps, module.momentum,
                                module.affine, module.track_running_stats, process_group)
            if module.affine:
                with no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


def _world_size():
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
