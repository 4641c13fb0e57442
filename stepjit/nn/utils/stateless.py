"""functional_call: a module called with other tensors in place of its parameters and buffers.

The replacements are swapped into the modules' `_parameters` / `_buffers` dicts for the
call and the originals put back afterwards (also when the call raises), so the module's
own forward code, hooks and submodules run unchanged on them, with their autograd history:
a gradient of the result flows to the tensors passed in, never to the module's parameters.
Tied weights (one tensor under two names) follow the replacement given for either name
unless tie_weights=False.
"""
from __future__ import annotations


def _dicts(parameter_and_buffer_dicts):
    if isinstance(parameter_and_buffer_dicts, dict):
        return dict(parameter_and_buffer_dicts)
    merged = {}
    for d in parameter_and_buffer_dicts:
        for k, v in d.items():
            if k in merged:
                raise ValueError(f"functional_call got multiple values for key {k}, which is "
                                 "used in more than one of the dictionaries passed")
            merged[k] = v
    return merged


def _slots(module):
    """Every (owner module, registry dict, attribute name, full name), tied names included."""
    out = []
    for prefix, mod in module.named_modules(remove_duplicate=False):
        for registry in (mod._parameters, mod._buffers):
            for name in registry:
                out.append((registry, name, f"{prefix}.{name}" if prefix else name))
    return out


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """module(*args, **kwargs) with the named tensors in place of its parameters/buffers."""
    values = _dicts(parameter_and_buffer_dicts)
    slots = _slots(module)
    names = {full for _, _, full in slots}
    if strict:
        missing = sorted(names - set(values))
        unexpected = sorted(set(values) - names)
        if missing or unexpected:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}: "
                               f"missing keys {missing}, unexpected keys {unexpected}")
    by_original = {}
    if tie_weights:
        for registry, name, full in slots:
            if full in values and registry[name] is not None:
                by_original[id(registry[name])] = values[full]
    swapped = []
    try:
        for registry, name, full in slots:
            original = registry[name]
            if full in values:
                new = values[full]
            elif original is not None and id(original) in by_original:
                new = by_original[id(original)]
            else:
                continue
            swapped.append((registry, name, original))
            registry[name] = new
        args = () if args is None else (args if isinstance(args, tuple) else (args,))
        return module(*args, **(kwargs or {}))
    finally:
        for registry, name, original in reversed(swapped):
            registry[name] = original
