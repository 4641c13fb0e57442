"""`stepjit.distributions`: the distributions training scripts sample from and score
(REINFORCE and actor-critic's `Categorical(probs)`, a VAE's `Normal`), with PyTorch's
formulas, so `log_prob` and `entropy` carry gradients and `sample` draws from stepjit's
generator (`rsample` is the reparameterized, differentiable draw)."""
from .bernoulli import Bernoulli  # noqa: F401
from .categorical import Categorical  # noqa: F401
from .distribution import Distribution  # noqa: F401
from .kl import kl_divergence  # noqa: F401
from .normal import Normal  # noqa: F401
from .uniform import Uniform  # noqa: F401

__all__ = ["Bernoulli", "Categorical", "Distribution", "Normal", "Uniform", "kl_divergence"]
