"""PyTorch's module path torch.distributions.dirichlet."""
from .gamma import Dirichlet  # noqa: F401
