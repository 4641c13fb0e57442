"""`nn.utils.skip_init`: build a module without initializing its values.

PyTorch builds it on the meta device and then allocates uninitialized memory; stepjit has no
meta device, so the module is built as usual: what PyTorch leaves undefined (the values) is
simply initialized here."""
from __future__ import annotations

import inspect


def skip_init(module_cls, *args, **kwargs):
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    return module_cls(*args, **kwargs)
