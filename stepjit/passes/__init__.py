"""Graph -> Graph passes. The pipeline of optimization passes comes with the CPU backend."""
from .autodiff import autodiff  # noqa: F401
