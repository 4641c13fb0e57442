"""`torch.utils.data.distributed`: DistributedSampler lives with stepjit.distributed."""
from ...distributed.sampler import DistributedSampler  # noqa: F401
