"""Choosing scaled_dot_product_attention's kernel (nn.attention.sdpa_kernel, the deprecated
backends.cuda.sdp_kernel and its flags) is accepted and changes no value: stepjit has one
implementation, PyTorch's math backend. The reference is softmax(q k^T / sqrt(d)) v in NumPy."""
import numpy as np

import stepjit as torch
from stepjit.nn.attention import SDPBackend, sdpa_kernel


def _attention():
    rng = np.random.RandomState(0)
    q, k, v = (rng.standard_normal((1, 2, 3, 4)) for _ in range(3))
    s = q @ k.transpose(0, 1, 3, 2) / 2.0
    w = np.exp(s - s.max(-1, keepdims=True))
    want = (w / w.sum(-1, keepdims=True)) @ v
    got = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_sdpa_kernel_and_sdp_kernel_blocks_compute_the_same_attention():
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION]):
        _attention()
    with sdpa_kernel(SDPBackend.MATH):
        _attention()
    cuda = torch.backends.cuda
    with cuda.sdp_kernel(enable_flash=False, enable_mem_efficient=False):
        assert not cuda.flash_sdp_enabled() and cuda.math_sdp_enabled()
        _attention()
    assert cuda.flash_sdp_enabled() and cuda.mem_efficient_sdp_enabled()


def test_nn_attention_attribute_is_the_sdpa_namespace():
    # Reached as an attribute (torch.nn.attention.sdpa_kernel, `import ... as`), not only by
    # `from ... import`: the layers' own attention module must not shadow it.
    import stepjit.nn.attention as namespace
    assert torch.nn.attention is namespace
    assert torch.nn.attention.sdpa_kernel is sdpa_kernel
    assert torch.nn.attention.SDPBackend.MATH is SDPBackend.MATH
    assert torch.nn.MultiheadAttention.__module__ == "stepjit.nn.modules.attention"
