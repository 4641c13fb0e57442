"""Independent: a batch distribution whose rightmost batch dims are read as event dims, so
log_prob and entropy sum over them (a diagonal Gaussian policy is
Independent(Normal(mu, sigma), 1))."""
from __future__ import annotations

from ..tensor import Size
from .distribution import Distribution


class Independent(Distribution):
    arg_constraints = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        n = len(base_distribution.batch_shape)
        if not 0 <= reinterpreted_batch_ndims <= n:
            raise ValueError(f"Expected reinterpreted_batch_ndims <= len(base_distribution."
                             f"batch_shape), actual {reinterpreted_batch_ndims} vs {n}")
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        split = n - reinterpreted_batch_ndims
        super().__init__(Size(shape[:split]), Size(shape[split:]), validate_args=False)

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def support(self):
        return self.base_dist.support

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def mode(self):
        return self.base_dist.mode

    @property
    def variance(self):
        return self.base_dist.variance

    def sample(self, sample_shape=Size()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=Size()):
        return self.base_dist.rsample(sample_shape)

    def _sum_rightmost(self, value):
        n = self.reinterpreted_batch_ndims
        return value if n == 0 else value.reshape(tuple(value.shape[:value.ndim - n]) + (-1,)).sum(-1)

    def log_prob(self, value):
        return self._sum_rightmost(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum_rightmost(self.base_dist.entropy())

    def __repr__(self):
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
