"""`stepjit.distributions`: PyTorch's probability distributions over stepjit tensors.

Every density, entropy and reparameterized sample is written with tensor functions, so
gradients flow through `log_prob` (REINFORCE), `rsample` (the reparameterization trick) and
`entropy` eagerly and inside compiled steps alike. Sampling draws from stepjit's generator
in the same calls PyTorch makes (`multinomial(probs_2d, n, True).T` for Categorical,
`bernoulli`, `normal`), so a seeded program draws the same actions eagerly and compiled.
Argument checks on values (a simplex, a positive scale, a value in the support) run on
eager tensors; in a compiled step they are skipped rather than turned into a guard per call
(docs/distributions.md).

The submodules carry PyTorch's names (`torch.distributions.multinomial.Multinomial`,
`.studentT.StudentT`, `.one_hot_categorical.OneHotCategorical`, ...), so imports written
against PyTorch's paths resolve.
"""
from .bernoulli import Bernoulli  # noqa: F401
from .binomial import Binomial  # noqa: F401
from .categorical import (  # noqa: F401
    Categorical, OneHotCategorical, OneHotCategoricalStraightThrough)
from .cauchy import Cauchy  # noqa: F401
from .chi2 import Chi2  # noqa: F401
from .continuous_bernoulli import ContinuousBernoulli  # noqa: F401
from .distribution import Distribution  # noqa: F401
from .exponential import Exponential  # noqa: F401
from .gamma import Beta, Dirichlet, Gamma  # noqa: F401
from .geometric import Geometric  # noqa: F401
from .gumbel import Gumbel  # noqa: F401
from .half_cauchy import HalfCauchy  # noqa: F401
from .half_normal import HalfNormal  # noqa: F401
from .inverse_gamma import InverseGamma  # noqa: F401
from .kumaraswamy import Kumaraswamy  # noqa: F401
from .independent import Independent  # noqa: F401
from .laplace import Laplace  # noqa: F401
from .mixture_same_family import MixtureSameFamily  # noqa: F401
from .multinomial import Multinomial  # noqa: F401
from .negative_binomial import NegativeBinomial  # noqa: F401
from .pareto import Pareto  # noqa: F401
from .weibull import Weibull  # noqa: F401
from .multivariate_normal import MultivariateNormal  # noqa: F401
from .lowrank_multivariate_normal import LowRankMultivariateNormal  # noqa: F401
from .von_mises import VonMises  # noqa: F401
from .normal import LogNormal, Normal  # noqa: F401
from .poisson import Poisson  # noqa: F401
from .relaxed_bernoulli import LogitRelaxedBernoulli, RelaxedBernoulli  # noqa: F401
from .relaxed_categorical import ExpRelaxedCategorical, RelaxedOneHotCategorical  # noqa: F401
from .transformed_distribution import TransformedDistribution  # noqa: F401
from .transforms import *  # noqa: F401,F403  (as torch.distributions exports them)
from .studentT import StudentT  # noqa: F401
from .uniform import Uniform  # noqa: F401
from .kl import kl_divergence, register_kl  # noqa: F401
from . import kl_cross  # noqa: F401  (registers the pairs across families)
from . import constraints  # noqa: F401
from . import beta, dirichlet, log_normal, one_hot_categorical  # noqa: F401
from . import continuous_bernoulli, half_cauchy, inverse_gamma, kumaraswamy  # noqa: F401
