"""`torch.backends.cudnn`: not used by stepjit; its flags are accepted."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None
