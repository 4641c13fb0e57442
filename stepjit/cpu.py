"""`stepjit.cpu`: the CPU device queries PyTorch programs make (`torch.cpu.is_available()`);
`stepjit.cpu.amp` is bound by stepjit/__init__.py (see stepjit/amp.py)."""


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """CPU work is done when the call returns."""
