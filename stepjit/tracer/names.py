"""Readable names for lifted tensors: the global, closure variable or module path they hold."""
from __future__ import annotations
from ..tensor import Tensor


def _add_module(hints, prefix, module):
    try:
        named = list(module.named_parameters()) + list(module.named_buffers())
    except Exception:
        return
    for name, p in named:
        hints.setdefault(id(p), f"{prefix}.{name}" if prefix else name)


def _add(hints, name, obj, depth=0):
    if isinstance(obj, Tensor):
        hints.setdefault(id(obj), name)
    elif hasattr(obj, "named_parameters") and callable(obj.named_parameters):
        _add_module(hints, name, obj)
    elif depth == 0 and isinstance(obj, (list, tuple)):
        for i, x in enumerate(obj):
            _add(hints, f"{name}{i}", x, 1)
    elif depth == 0 and hasattr(obj, "param_groups") and hasattr(obj, "state"):
        for i, (p, st) in enumerate(list(getattr(obj, "state", {}).items())):
            owner = hints.get(id(p), str(i))
            for k, v in st.items():
                if isinstance(v, Tensor):
                    hints.setdefault(id(v), f"{name}.state[{owner}].{k}")


def name_hints(fn, args):
    """id(tensor) -> name, from fn's globals, closure, bound self and Module arguments."""
    hints = {}
    target = getattr(fn, "__func__", fn)
    self_obj = getattr(fn, "__self__", None)
    if self_obj is not None:
        _add(hints, "", self_obj)
        for k, v in list(getattr(self_obj, "__dict__", {}).items()):
            _add(hints, k, v)
    code = getattr(target, "__code__", None)
    if code is not None:
        glb = getattr(target, "__globals__", {})
        for name in code.co_names:
            if name in glb:
                _add(hints, name, glb[name])
        for name, cell in zip(code.co_freevars, getattr(target, "__closure__", None) or ()):
            try:
                _add(hints, name, cell.cell_contents)
            except ValueError:
                pass
    elif hasattr(fn, "named_parameters"):
        _add_module(hints, "", fn)
    for i, a in enumerate(args):
        if hasattr(a, "named_parameters"):
            _add_module(hints, "", a)
    return hints
