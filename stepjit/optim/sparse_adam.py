"""SparseAdam: Adam for sparse gradients (PyTorch's `nn.Embedding(sparse=True)` tables).

stepjit has no sparse gradients: `nn.Embedding(sparse=True)` accepts the flag and gives its
weight a dense gradient. SparseAdam keeps PyTorch's contract, which refuses dense gradients
(use Adam), so a program pairing the two stops at its first step with that error and a
sentence saying why, rather than training with another algorithm's numbers: SparseAdam
updates the moments of the rows a batch touched only, Adam every row. Parameters with no
gradient are skipped, as in PyTorch.
"""
from __future__ import annotations

from .adam import _check
from .optimizer import Optimizer


class SparseAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        _check(lr, betas, eps, 0.0)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        for group in self.param_groups:
            for i, p in enumerate(group["params"]):
                if getattr(p, "is_sparse", False):
                    raise ValueError(f"Sparse params at indices {[i]}: SparseAdam requires "
                                     "dense parameter tensors")

    def _update(self, p, grad, group, state):
        raise RuntimeError(
            "SparseAdam does not support dense gradients, please consider Adam instead "
            f"(a parameter of shape {list(p.shape)}; stepjit's nn.Embedding(sparse=True) "
            "computes dense gradients: stepjit has no sparse gradients)")
