"""`stepjit.backends`: the flags PyTorch programs set on `torch.backends.*`, accepted.

stepjit uses neither cuDNN, MPS nor oneDNN: the `is_available()` answers say so, and the
flags (`cudnn.benchmark = True`, `cudnn.deterministic`, `cuda.matmul.allow_tf32`) are kept
as plain attributes that change nothing (stepjit's kernels are deterministic and never use
TF32).
"""
from . import cuda, cudnn, mkldnn, mps  # noqa: F401
