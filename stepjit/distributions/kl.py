"""kl_divergence(p, q) for the pairs training scripts use (closed forms, as PyTorch's)."""
from __future__ import annotations

from .bernoulli import Bernoulli
from .categorical import Categorical
from .normal import Normal


def _normal_normal(p, q):
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


def _categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = t.masked_fill(q.probs == 0, float("inf"))
    return t.masked_fill(p.probs == 0, 0.0).sum(-1)


def _bernoulli_bernoulli(p, q):
    t1 = p.probs * (p.logits.sigmoid().log() - q.logits.sigmoid().log())
    t2 = (1 - p.probs) * ((-p.logits).sigmoid().log() - (-q.logits).sigmoid().log())
    return t1 + t2


_RULES = {(Normal, Normal): _normal_normal, (Categorical, Categorical): _categorical_categorical,
          (Bernoulli, Bernoulli): _bernoulli_bernoulli}


def kl_divergence(p, q):
    rule = _RULES.get((type(p), type(q)))
    if rule is None:
        raise NotImplementedError(f"kl_divergence({type(p).__name__}, {type(q).__name__}) "
                                  "is not implemented in stepjit")
    return rule(p, q)
