"""lgamma, digamma, polygamma and their torch.special spellings against PyTorch: one table,
recorded by tests/fixtures/record_gamma.py (float64 values and gradients; one float32 case).
"""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(1729)

POSITIVE = np.concatenate([RNG.uniform(0.05, 3.0, 6), RNG.uniform(3.0, 40.0, 4), [9.5, 10.0, 250.0]])
NEGATIVE = np.array([-0.5, -1.5, -2.3, -3.9, -0.01])
POLES = np.array([0.0, -0.0, -1.0, -2.0, 1.0, 2.0, np.inf, -np.inf, np.nan, 1e-300])

CASES = [
    Case("lgamma", lambda T, x: T.lgamma(x), POSITIVE, compiled=True),
    Case("lgamma_negative", lambda T, x: x.lgamma(), NEGATIVE),
    Case("lgamma_poles", lambda T, x: T.lgamma(x), POLES, grad=()),
    Case("digamma", lambda T, x: T.digamma(x), POSITIVE, compiled=True),
    Case("digamma_negative", lambda T, x: x.digamma(), NEGATIVE),
    Case("digamma_poles", lambda T, x: T.digamma(x), POLES, grad=()),
    Case("polygamma_1", lambda T, x: T.polygamma(1, x), POSITIVE, compiled=True),
    Case("polygamma_1_negative", lambda T, x: x.polygamma(1), NEGATIVE),
    Case("polygamma_2_3", lambda T, x: (T.polygamma(2, x), T.polygamma(3, x)), POSITIVE),
    Case("polygamma_2_3_moderate", lambda T, x: (T.polygamma(2, x), T.polygamma(3, x)),
         RNG.uniform(1.0, 6.0, 5)),
    Case("polygamma_4_negative", lambda T, x: T.polygamma(4, x), NEGATIVE),
    Case("polygamma_0_is_digamma", lambda T, x: T.polygamma(0, x), POSITIVE),
    Case("polygamma_poles", lambda T, x: (T.polygamma(1, x), T.polygamma(2, x)), POLES, grad=()),
    Case("special_spellings", lambda T, x: (T.special.gammaln(x), T.special.digamma(x),
                                            T.special.psi(x), T.special.polygamma(2, x)),
         POSITIVE),
    Case("multigammaln", lambda T, x: (T.special.multigammaln(x + 2, 3), T.mvlgamma(x + 1, 2),
                                       (x + 1).mvlgamma(1)), POSITIVE),
    Case("lgamma_float32", lambda T, x: (T.lgamma(x.float()), T.digamma(x.float()),
                                         T.polygamma(1, x.float())), POSITIVE, tol=2e-5),
    Case("beta_log_normalizer", lambda T, a, b: (T.lgamma(a) + T.lgamma(b) - T.lgamma(a + b)),
         POSITIVE, POSITIVE[::-1].copy(), compiled=True),
    Case("inplace", lambda T, x: (x.detach().clone().lgamma_(), x.detach().clone().digamma_()),
         POSITIVE, grad=()),
]
