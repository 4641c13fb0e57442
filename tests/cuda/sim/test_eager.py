"""Eager ops on CUDA tensors against the CPU: one table of ops and inputs, shapes <= 8x8."""
import numpy as np
import pytest

import stepjit as torch
from stepjit.programs import cuda as rt

SHAPE_A, SHAPE_B = (5, 7), (1, 7)   # 35 elements: not a multiple of the simulator's block (8)

OPS = {
    "add_broadcast": lambda a, b: a + b,
    "mul_scalar": lambda a, b: a * 0.5 - b,
    "exp_sigmoid_tanh": lambda a, b: a.exp() + a.sigmoid() * a.tanh(),
    "relu_clamp_abs": lambda a, b: a.relu() + a.clamp(-0.5, 0.5) + a.abs(),
    "pow_sqrt_log": lambda a, b: (a.pow(2) + 1).sqrt().log(),
    "where_compare": lambda a, b: torch.where(a > b, a, b),
    "maximum": lambda a, b: torch.maximum(a, b),
    "sum_all": lambda a, b: a.sum(),
    "sum_dim0": lambda a, b: a.sum(0),
    "sum_dim1_keepdim": lambda a, b: a.sum(1, keepdim=True),
    "mean": lambda a, b: a.mean(),
    "amax_dim1": lambda a, b: a.amax(1),
    "max_dim0": lambda a, b: a.max(dim=0).values,
    "argmax": lambda a, b: a.argmax(1),
    "softmax": lambda a, b: a.softmax(1),
    "log_softmax": lambda a, b: torch.log_softmax(a, 0),
    "matmul": lambda a, b: a @ a.t(),
    "matmul_vec": lambda a, b: a @ b.reshape(7),
    "transpose_reshape": lambda a, b: a.t().reshape(35)[3:9],
    "slice_expand": lambda a, b: a[1:4, ::2] + b[:, :4].expand(3, 4),
    "cast": lambda a, b: (a > 0).float() + a.long().double(),
    "cat": lambda a, b: torch.cat([a, b], 0),
    "mask_index": lambda a, b: a[a > 0],
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_matches_cpu(name):
    fn = OPS[name]
    a, b = torch.randn(*SHAPE_A), torch.randn(*SHAPE_B)
    want = fn(a, b)
    got = fn(a.cuda(), b.cuda())
    assert got.device.type == "cuda" and got.dtype is want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


def test_reduction_of_more_elements_than_one_block_and_empty():
    for n in (1, 3, 8, 9, 17, 64):
        x = torch.randn(n)
        np.testing.assert_allclose(x.cuda().sum().item(), x.sum().item(), rtol=1e-5)
        assert x.cuda().amax().item() == x.amax().item()
    assert torch.zeros(0, device="cuda").sum().item() == 0.0


def test_matmul_edges_not_multiples_of_the_tile():
    for m, k, n in ((1, 1, 1), (3, 5, 2), (5, 4, 6), (8, 8, 8)):
        a, b = torch.randn(m, k), torch.randn(k, n)
        np.testing.assert_allclose((a.cuda() @ b.cuda()).cpu().numpy(), (a @ b).numpy(),
                                   rtol=1e-5, atol=1e-5)
    a, b = torch.randn(2, 3, 4), torch.randn(4, 2)
    np.testing.assert_allclose((a.cuda() @ b.cuda()).cpu().numpy(), (a @ b).numpy(), rtol=1e-5)


def test_autograd_and_inplace_on_cuda():
    w = torch.randn(4, 3, requires_grad=True)
    wc = w.detach().cuda().requires_grad_()
    x = torch.randn(5, 4)
    for ww, xx in ((w, x), (wc, x.cuda())):
        loss = (xx @ ww).tanh().pow(2).mean()
        loss.backward()
        with torch.no_grad():
            ww -= 0.1 * ww.grad
        ww.grad.zero_()
    np.testing.assert_allclose(wc.detach().cpu().numpy(), w.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert wc.grad.device.type == "cuda" and wc.grad.abs().sum().item() == 0


def test_views_share_device_memory_and_kernels_are_cached():
    x = torch.zeros(3, 4, device="cuda")
    x[1] = 2.0
    assert x.sum().item() == 8.0
    before = len(rt._EAGER)
    for _ in range(3):
        x + 1.0
    assert len(rt._EAGER) <= before + 1


def test_host_round_trips_are_only_the_listed_ops():
    rt.HOST_OPS.clear()
    a = torch.randn(4, 4, device="cuda")
    ((a @ a).relu().sum(1) * 2).softmax(0)
    assert rt.HOST_OPS == {}
