"""The spatial transformer tutorial starts from an identity theta: affine_grid then lands on
pixel centres and grid_sample's bilinear weights sit on floor()'s edge. PyTorch builds the base
grid as linspace(-1, 1, n) * (n - 1) / n and unnormalizes as (x + 1) * (n / 2) - 0.5, so its
pixel coordinates fall on whole numbers (or an ulp off, the same ulp as PyTorch's), and the
gradient to theta is a difference of neighbouring pixels on the side floor() picks. stepjit's grid was off by an ulp, floor() fell on the other side,
and the tutorial's second step differed from PyTorch's (2.255596 vs 2.255258)."""
import numpy as np
import pytest

import stepjit
import stepjit.nn.functional as F


# theta.grad printed by PyTorch 2.13 for the case below (rounded to 3 decimals)
RECORDED_THETA_GRAD = [[[122.839, -326.776, 124.568], [-123.746, 19.655, -58.631]],
                       [[-65.348, 178.572, 66.315], [95.592, -68.521, 37.585]]]


def test_identity_theta_gradient_is_pytorchs():
    rng = np.random.default_rng(0)
    h, w = 28, 28
    x = rng.random((2, 3, h, w)).astype(np.float32)
    g = rng.normal(size=(2, 3, h, w)).astype(np.float32)
    theta = stepjit.tensor(np.tile(np.eye(2, 3, dtype=np.float32), (2, 1, 1)), requires_grad=True)
    grid = F.affine_grid(theta, (2, 3, h, w), align_corners=False)
    out = F.grid_sample(stepjit.tensor(x), grid, align_corners=False)
    np.testing.assert_allclose(out.detach().numpy(), x, atol=1e-5)   # at the pixel centres
    (out * stepjit.tensor(g)).sum().backward()
    np.testing.assert_allclose(theta.grad.numpy(), RECORDED_THETA_GRAD, rtol=1e-4, atol=2e-3)


def test_identity_grid_against_live_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.random((2, 2, 28, 28)).astype(np.float32)
    g = rng.normal(size=x.shape).astype(np.float32)
    got = {}
    for name, lib in (("torch", torch), ("stepjit", stepjit)):
        theta = lib.tensor(np.tile(np.eye(2, 3, dtype=np.float32), (2, 1, 1)), requires_grad=True)
        grid = lib.nn.functional.affine_grid(theta, (2, 2, 28, 28), align_corners=False)
        out = lib.nn.functional.grid_sample(lib.tensor(x), grid, align_corners=False)
        (out * lib.tensor(g)).sum().backward()
        got[name] = (grid.detach().numpy(), theta.grad.numpy())
    np.testing.assert_array_equal(got["stepjit"][0], got["torch"][0])
    np.testing.assert_allclose(got["stepjit"][1], got["torch"][1], rtol=1e-4, atol=1e-3)
