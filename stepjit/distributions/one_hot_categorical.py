"""PyTorch's module path torch.distributions.one_hot_categorical."""
from .categorical import OneHotCategorical, OneHotCategoricalStraightThrough  # noqa: F401
