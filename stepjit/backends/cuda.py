"""`torch.backends.cuda`: flags accepted; stepjit's CUDA kernels never use TF32."""
from types import SimpleNamespace

from .. import cuda as _cuda

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    return _cuda.is_available()
