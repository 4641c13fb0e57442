"""`torch.backends.mkldnn`: not used by stepjit (CPU matmuls go to NumPy's BLAS)."""
enabled = True


def is_available() -> bool:
    return False
