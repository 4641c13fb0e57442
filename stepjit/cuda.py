"""`stepjit.cuda`: device queries. The CUDA backend is not built yet, so no device is available."""
from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def synchronize(device=None) -> None:
    pass


def manual_seed(seed) -> None:
    from .random import manual_seed as _seed
    _seed(seed)


manual_seed_all = manual_seed
