"""Complex tensors (stepjit/ops/complex_numbers.py) against PyTorch: values and gradients through
polar, complex, view_as_complex/view_as_real, complex arithmetic and LLaMA-style rotary
embeddings, one table recorded by tests/fixtures/record_complex.py. Outputs are real
(view_as_real, .real, .imag), so the gradients recorded are the real inputs'."""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(64)
R = RNG.uniform(0.5, 2.0, (3, 4))
TH = RNG.uniform(-3.0, 3.0, (3, 4))
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal(4)
X = RNG.standard_normal((3, 4, 2))
Y = RNG.standard_normal((3, 4, 2))
S = RNG.standard_normal(4)
Q = RNG.standard_normal((2, 5, 2, 8))    # (batch, time, heads, head_dim)
K = RNG.standard_normal((2, 5, 2, 8))


def _polar(T, r, th):
    return T.view_as_real(T.polar(r, th))


def _complex_parts(T, a, b):
    z = T.complex(a, b)     # b broadcast over a's rows
    return z.real * 2.0, z.imag, T.view_as_real(z.conj().resolve_conj()), T.real(z), T.imag(z)


def _arithmetic(T, x, y, s):
    z, w = T.view_as_complex(x), T.view_as_complex(y)
    outs = (z * w, z / w, z + w, z - w, z * s, s * z, z + s, s - z, z / s, 2.5 * z - 1.0,
            z * 1j, -z, w.conj() * z)
    return tuple(T.view_as_real(o) for o in outs)


def _shapes(T, x):
    z = T.view_as_complex(x)                  # [3, 4]
    outs = (z.view(4, 3), z.reshape(-1), z.flatten(), z.unsqueeze(1), z.unsqueeze(-1),
            z.transpose(0, 1), z.permute(1, 0), z[1], z[:, 1:3], z[..., 0], z[None, 2],
            z[:2].expand(2, 2, 4), z.unsqueeze(0).squeeze(0), z.clone(), z.contiguous())
    return tuple(T.view_as_real(o) for o in outs)


def freqs_cis(T, dim, end, theta=10000.0):
    """LLaMA's precompute_freqs_cis."""
    freqs = 1.0 / (theta ** (T.arange(0, dim, 2)[: (dim // 2)].double() / dim))
    t = T.arange(end, device=freqs.device)
    freqs = T.outer(t, freqs)
    return T.polar(T.ones_like(freqs), freqs)


def rotary(T, xq, xk, fc):
    """LLaMA's reshape_for_broadcast + apply_rotary_emb."""
    xq_ = T.view_as_complex(xq.double().reshape(*xq.shape[:-1], -1, 2))
    xk_ = T.view_as_complex(xk.double().reshape(*xk.shape[:-1], -1, 2))
    assert fc.shape == (xq_.shape[1], xq_.shape[-1])
    shape = [d if i == 1 or i == xq_.ndim - 1 else 1 for i, d in enumerate(xq_.shape)]
    fc = fc.view(*shape)
    xq_out = T.view_as_real(xq_ * fc).flatten(3)
    xk_out = T.view_as_real(xk_ * fc).flatten(3)
    return xq_out.type_as(xq), xk_out.type_as(xk)


def _rope(T, xq, xk):
    return rotary(T, xq, xk, freqs_cis(T, 8, 16)[:5])


def _functions(T, x, y):
    """abs, angle, exp (methods, torch functions, Python's abs); with X0, at z = 0, where
    PyTorch's abs and angle gradients are 0."""
    z, w = T.view_as_complex(x), T.view_as_complex(y)
    return (z.abs(), T.abs(w), abs(z), z.absolute(), z.angle(), T.angle(w),
            T.view_as_real(z.exp()), T.view_as_real(T.exp(w * 0.5)), (z * w).abs().sum())


def _reductions(T, x, y):
    z, w = T.view_as_complex(x), T.view_as_complex(y)
    outs = (z.sum(), z.sum(1), z.sum(dim=(0, 1)), T.sum(w, 0, keepdim=True), z.sum(-1),
            z.mean(), T.mean(w, dim=-1), z.mean(0, keepdim=True), T.mean(z * w, (0, 1)))
    return tuple(T.view_as_real(o) for o in outs)


def _functional_arithmetic(T, x, y, s):
    z, w = T.view_as_complex(x), T.view_as_complex(y)
    outs = (T.mul(z, w), T.mul(z, 2.5), T.mul(s, z), T.multiply(z, s), T.add(z, w),
            T.add(z, w, alpha=2.0), T.add(z, 1.5), T.add(s, z, alpha=0.5), T.sub(z, w, alpha=0.5),
            T.sub(s, z), T.div(z, w), T.div(s, z), z.add(w, alpha=-1.0), z.sub(w, alpha=3.0))
    return tuple(T.view_as_real(o) for o in outs)


def _real_angle(T, a):
    return T.angle(a), a.angle() * 2.0


X0 = X.copy()
X0[1, 2] = 0.0          # z = 0 there
A_EDGE = np.array([-2.0, -0.0, 0.0, 3.0, np.inf, -np.inf, np.nan])


def _leaf_gradient(T, a, b):
    """A complex leaf's .grad, PyTorch's convention (conjugate Wirtinger: dL/dx + i dL/dy)."""
    z = T.complex(a, a.flip(0)).detach().requires_grad_()
    w = T.complex(b, b * b)
    loss = (T.view_as_real(z * w) ** 2).sum() + (z.real * z.imag).sum()
    loss.backward()
    return T.view_as_real(z.grad), z.is_leaf, z.requires_grad


def _descriptions(T, x):
    """Printing and metadata; under PyTorch's float64 default, as the recorder runs (which
    decides whether the repr names complex128)."""
    before = T.get_default_dtype()
    T.set_default_dtype(T.float64)
    try:
        return _described(T, x)
    finally:
        T.set_default_dtype(before)


def _described(T, x):
    z = T.view_as_complex(x)
    name = T.__name__ + "."
    single = z.to(T.complex64)
    zg = T.view_as_complex(x.clone().requires_grad_())
    return (repr(z).replace(name, ""), repr(single).replace(name, ""), str(z.dtype).replace(name, ""),
            str(single.dtype).replace(name, ""), z.type().replace(name, ""), tuple(z.shape), z.ndim,
            z.is_complex(), z.is_floating_point(), T.is_complex(z), T.is_complex(x),
            z.element_size(), single.element_size(), z.numpy(), z[0, 0].item(),
            repr(T.view_as_complex(x[0, 0]).to(T.complex64)).replace(name, ""),
            repr(T.polar(T.ones(2), T.zeros(2)) * 1j).replace(name, ""),
            single.real.dtype == T.float32, z.float(), z.to(T.float64),
            repr(zg).replace(name, ""), repr(zg * 2).replace(name, ""), zg.is_leaf)


CASES = [
    Case("polar", _polar, R, TH),
    Case("complex_parts", _complex_parts, A, B),
    Case("arithmetic", _arithmetic, X, Y, S),
    Case("shapes", _shapes, X),
    Case("rope", _rope, Q, K),
    Case("leaf_gradient", _leaf_gradient, A, B, grad=()),
    Case("functions", _functions, X, Y),
    Case("functions_at_zero", _functions, X0, Y),
    Case("reductions", _reductions, X, Y),
    Case("functional_arithmetic", _functional_arithmetic, X, Y, S),
    Case("real_angle", _real_angle, A_EDGE),
    Case("descriptions", _descriptions, X, grad=()),
]

# Cases at points where the function is not differentiable (|z| and angle at 0; angle of a
# real at +-inf, NaN): gradients against PyTorch's recorded ones, not finite differences.
NOT_BY_DIFFERENCES = {"functions_at_zero", "real_angle"}
