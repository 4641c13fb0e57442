"""PyTorch's module path torch.distributions.beta."""
from .gamma import Beta  # noqa: F401
