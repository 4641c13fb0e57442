"""`torch.jit` as a pass-through: scripts that call `torch.jit.script(model)` or
`torch.jit.trace(fn, example)` keep working, and get back the very object they passed.

TorchScript compiles a model for deployment without Python; stepjit has no such format. What
stepjit compiles is a training step (`stepjit.compile`), so these functions change nothing:
`script` and `trace` return their argument unchanged (trace does not run it), and the
decorators (`ignore`, `unused`, `export`) return the function. `save`/`load` are refused
with a pointer to `stepjit.save` (a state_dict), since nothing here writes TorchScript; so is
what a ScriptModule has and a module lacks (`scripted.save(path)`, `.code`, `.graph`), asked
of a module script/trace handed back (nn.Module.__getattr__ asks `script_only`).
"""
from __future__ import annotations

import weakref

_HANDED_BACK = weakref.WeakSet()
_SCRIPT_ONLY = ("save", "save_to_buffer", "code", "code_with_constants", "graph",
                "inlined_graph")


def _handed_back(obj):
    try:
        _HANDED_BACK.add(obj)
    except TypeError:   # (an object without weak references: nothing to remember)
        pass
    return obj


class ScriptOnlyError(NotImplementedError, AttributeError):
    """Also an AttributeError, so that `hasattr(scripted, 'save')` is False rather than raising."""


def script_only(obj, name):
    """The error for `name` of a module script/trace returned, or None where it is not one."""
    if name not in _SCRIPT_ONLY or obj not in _HANDED_BACK:
        return None
    return ScriptOnlyError(
        f"'{type(obj).__name__}' object from stepjit.jit.script/trace has no '{name}': stepjit "
        "returns the module itself and cannot write or show TorchScript; save its state_dict "
        "with stepjit.save(model.state_dict(), path) instead")


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    return _handed_back(obj)


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-05, strict=True, **kwargs):
    return _handed_back(func)


def trace_module(mod, inputs=None, **kwargs):
    return _handed_back(mod)


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
