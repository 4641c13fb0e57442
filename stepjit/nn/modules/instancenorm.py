"""InstanceNorm1d/2d/3d: per-sample, per-channel normalization (PyTorch's defaults: no
affine parameters, no running statistics)."""
from __future__ import annotations

from .. import functional as F
from .normalization import _NormBase


class _InstanceNorm(_NormBase):
    _ndim = 2   # spatial dimensions the input has after (N, C)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input):
        batched = self._ndim + 2
        if input.ndim not in (batched - 1, batched):
            raise ValueError(f"expected {batched - 1}D or {batched}D input (got {input.ndim}D "
                             f"input)")
        unbatched = input.ndim == batched - 1
        if unbatched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.num_features and self.affine:
            raise ValueError(f"expected input's size at dim=1 to match num_features "
                             f"({self.num_features}), but got: {input.shape[1]}.")
        use_stats = self.training or not self.track_running_stats   # (PyTorch leaves
        # num_batches_tracked at 0: instance norm keeps it only for state_dict compatibility)
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                              self.bias, use_stats, self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    _ndim = 1


class InstanceNorm2d(_InstanceNorm):
    _ndim = 2


class InstanceNorm3d(_InstanceNorm):
    _ndim = 3
