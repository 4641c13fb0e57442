"""VonMises and LowRankMultivariateNormal against PyTorch: densities, entropies, moments and
matrices with their gradients, one table recorded by
tests/fixtures/record_distribution_circular_lowrank.py (float64)."""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(5150)


def r(*shape):
    return RNG.standard_normal(shape)


def pos(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def D(T):
    return T.distributions


def lowrank(T, loc, w, d):
    return D(T).LowRankMultivariateNormal(loc, w, d)


CASES = [
    Case("von_mises_log_prob", lambda T, loc, k, v: D(T).VonMises(loc, k).log_prob(v),
         r(4), np.array([0.3, 2.0, 3.7, 12.0]), r(3, 4) * 3, compiled=True),
    Case("von_mises_moments", lambda T, loc, k: (lambda d: (d.mean, d.mode, d.variance))(
        D(T).VonMises(loc, k)), r(3), np.array([0.2, 3.8, 8.0])),
    Case("von_mises_broadcast", lambda T, k, v: D(T).VonMises(0.5, k).log_prob(v),
         pos(2, 1), r(3)),
    Case("lowrank_log_prob", lambda T, loc, w, d, v: lowrank(T, loc, w, d).log_prob(v),
         r(3), r(3, 2), pos(3), r(5, 3), compiled=True),
    Case("lowrank_batched", lambda T, loc, w, d, v: (lambda m: (
        m.log_prob(v), m.entropy(), m.variance, m.mean))(lowrank(T, loc, w, d)),
        r(2, 4), r(4, 2), pos(2, 4), r(3, 2, 4)),
    Case("lowrank_matrices", lambda T, loc, w, d: (lambda m: (
        m.covariance_matrix, m.precision_matrix, m.scale_tril))(lowrank(T, loc, w, d)),
        r(3), r(3, 1), pos(3)),
    Case("lowrank_expand", lambda T, loc, w, d, v: lowrank(T, loc, w, d).expand((2, 3))
         .log_prob(v), r(4), r(4, 3), pos(4), r(2, 3, 4)),
]
