"""`torch.jit` as a pass-through: scripts that call `torch.jit.script(model)` or
`torch.jit.trace(fn, example)` keep working, and get back the very object they passed.

TorchScript compiles a model for deployment without Python; stepjit has no such format. What
stepjit compiles is a training step (`stepjit.compile`), so these functions change nothing:
`script` and `trace` return their argument unchanged (trace does not run it), and the
decorators (`ignore`, `unused`, `export`) return the function. `save`/`load` are refused
with a pointer to `stepjit.save` (a state_dict), since nothing here writes TorchScript.
"""
from __future__ import annotations


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-05, strict=True, **kwargs):
    return func


def trace_module(mod, inputs=None, **kwargs):
    return mod


def ignore(drop=False, **kwargs):
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False


def _no_torchscript(*args, **kwargs):
    raise NotImplementedError("stepjit.jit cannot save or load TorchScript archives; save the "
                              "model's state_dict with stepjit.save instead")


save = load = _no_torchscript
