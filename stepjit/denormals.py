"""`torch.set_flush_denormal(mode)`: PyTorch sets the CPU's flush-to-zero / denormals-are-zero
flags and returns True where the CPU supports them. stepjit's eager NumPy ops and its Numba
kernels always keep IEEE subnormal numbers (flipping the process-wide MXCSR flags would also
change NumPy's results outside stepjit), so it reports what PyTorch reports on a CPU without
that support: False, with nothing changed. A program that calls it for speed runs on with
exact subnormal arithmetic."""


def set_flush_denormal(mode) -> bool:
    if not isinstance(mode, bool):
        raise RuntimeError(f"flush_denormal expects a bool, but got {type(mode).__name__}")
    return False
