"""`nn.utils.skip_init`: build a module without initializing its values.

As PyTorch: the module is built on the meta device (its init functions write nothing and
draw no random numbers), then `to_empty` gives it storage on the requested device (zeros
here, where PyTorch leaves memory uninitialized)."""
from __future__ import annotations

import inspect


def skip_init(module_cls, *args, **kwargs):
    if not (isinstance(module_cls, type) and hasattr(module_cls, "to_empty")):   # a Module
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    kwargs["device"] = "meta"
    return module_cls(*args, **kwargs).to_empty(device=final_device)
