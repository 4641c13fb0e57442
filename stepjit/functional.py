"""`torch.functional`: the module where PyTorch keeps tensor functions written in Python
(einsum, split, meshgrid, norm, unique, cdist, ...). Programs import from it by that name,
and some reach `F` through it (`from torch.functional import F`, as the official
transfer-learning tutorial does), because PyTorch's module imports torch.nn.functional as F.
The functions are stepjit's own (stepjit.einsum is stepjit.functional.einsum); the few that
stepjit lacks (stft, istft, lu, the low-rank PCA/SVD) are absent, so using them raises
ImportError/AttributeError naming them."""
from __future__ import annotations

from . import api as _api
from .nn import functional as F  # noqa: F401

_NAMES = ("atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors",
          "cartesian_prod", "block_diag", "cdist", "chain_matmul", "einsum", "norm",
          "meshgrid", "split", "tensordot", "unique", "unique_consecutive", "unravel_index")
globals().update({name: getattr(_api, name) for name in _NAMES})
__all__ = list(_NAMES)
