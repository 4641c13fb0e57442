"""NegativeBinomial(total_count, probs or logits): the number of successes before
`total_count` failures, PyTorch's parameterization; a draw is Poisson(Gamma(total_count,
exp(-logits))) as PyTorch draws it; log_prob with lgamma and logsigmoid."""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..nn.functional import logsigmoid
from ..ops.elementwise import lgamma
from ..ops.sampling import poisson
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import BinaryProbs, broadcast_all


class NegativeBinomial(BinaryProbs, Distribution):
    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if probs is not None else logits
        count, param = broadcast_all(total_count, given)
        self.total_count = count.to(param.dtype)
        if probs is not None:
            self.probs = param
        else:
            self.logits = param
        self._param = param
        super().__init__(Size(param.shape), validate_args=validate_args)

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / (-self.logits).sigmoid()

    @property
    def param_shape(self):
        return self._param.shape

    def sample(self, sample_shape=Size()):
        with no_grad():
            gamma = Gamma(self.total_count.detach(), (-self.logits.detach()).exp(),
                          validate_args=False)
            return poisson(gamma.sample(sample_shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        unnormalized = n * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        normalization = -lgamma(n + value) + lgamma(1.0 + value) + lgamma(n)
        normalization = normalization.masked_fill(n + value == 0.0, 0.0)
        return unnormalized - normalization
