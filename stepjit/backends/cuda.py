"""`torch.backends.cuda`: flags accepted; stepjit's CUDA kernels never use TF32, and its one
scaled_dot_product_attention (nn/attention.py) is the math backend whichever is enabled."""
import contextlib
from types import SimpleNamespace

from .. import cuda as _cuda

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    return _cuda.is_available()


_SDP = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """The deprecated spelling of nn.attention.sdpa_kernel: the flags read inside the block."""
    saved = dict(_SDP)
    _SDP.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient,
                cudnn=enable_cudnn)
    try:
        yield
    finally:
        _SDP.update(saved)


def _flag(name):
    def enabled():
        return _SDP[name]

    def enable(value):
        _SDP[name] = bool(value)
    return enabled, enable


flash_sdp_enabled, enable_flash_sdp = _flag("flash")
mem_efficient_sdp_enabled, enable_mem_efficient_sdp = _flag("mem_efficient")
math_sdp_enabled, enable_math_sdp = _flag("math")
cudnn_sdp_enabled, enable_cudnn_sdp = _flag("cudnn")
