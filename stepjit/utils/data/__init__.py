"""`stepjit.utils.data`: PyTorch's datasets, samplers and DataLoader, loading in-process.

Batches are ordinary stepjit tensors of a fixed shape (every full batch has the
same shape), so a compiled step traces once for the full batches and at most
once more for a short last batch. See docs/data.md.
"""
from .collate import default_collate, default_convert  # noqa: F401
from .dataloader import DataLoader, get_worker_info  # noqa: F401
from .dataset import (  # noqa: F401
    ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
    random_split)
from .distributed import DistributedSampler  # noqa: F401
from .sampler import (  # noqa: F401
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
    WeightedRandomSampler)
