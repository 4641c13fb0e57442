"""`stepjit.utils.tensorboard`: PyTorch's `torch.utils.tensorboard` for scalar logging
(writer.py), with TensorBoard's event files written without the tensorboard package."""
from .writer import SummaryWriter  # noqa: F401
