"""Sequential and ModuleList: modules held under the names "0", "1", ... in `_modules`."""
from __future__ import annotations

import operator
import warnings
from collections import OrderedDict

from .module import Module
from ..parameter import Parameter
from ...tensor import Tensor


def _index(length, idx):
    idx = operator.index(idx)
    if not -length <= idx < length:
        raise IndexError(f"index {idx} is out of range")
    return idx % length


class Container(Module):
    """PyTorch's deprecated container: its keyword arguments become submodules."""

    def __init__(self, **kwargs):
        super().__init__()
        warnings.warn("nn.Container is deprecated. All of it's functionality is now implemented "
                      "in nn.Module. Subclass that instead.", stacklevel=2)
        for key, value in kwargs.items():
            self.add_module(key, value)


class _IndexedModules(Module):
    """Shared list-like behaviour; items are `_modules` values in insertion order."""

    def _key(self, idx):
        return list(self._modules.keys())[_index(len(self._modules), idx)]

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self._slice(idx)
        return self._modules[self._key(idx)]

    def __setitem__(self, idx, module):
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx):
        keys = list(self._modules.keys())
        for key in keys[idx] if isinstance(idx, slice) else [self._key(idx)]:
            del self._modules[key]
        # Renumber so names stay "0".."n-1", as PyTorch does after a deletion.
        values = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(values):
            self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def __iadd__(self, modules):
        """`layers += [block]` (normalizing-flow and U-Net builders extend their lists so)."""
        return self.extend(self._operand(modules, "add"))

    def __add__(self, other):
        combined = type(self)()
        return combined.extend(list(self) + list(self._operand(other, "add")))

    def _operand(self, other, op):
        return other


class Sequential(_IndexedModules):
    """Calls its modules in order; built from modules or from one OrderedDict of named modules."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def _slice(self, idx):
        return type(self)(OrderedDict(list(self._modules.items())[idx]))  # keeps the names

    def _operand(self, other, op):
        if not isinstance(other, Sequential):
            raise ValueError(f"{op} operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return other

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(_IndexedModules):
    """A list whose modules are registered (so their parameters are found); no forward."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _slice(self, idx):
        return type(self)(list(self._modules.values())[idx])


class ModuleDict(Module):
    """A dict of registered modules, in insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self[k] = m


class ParameterList(Module):
    """A list of registered Parameters named "0", "1", ...; plain tensors become Parameters."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _wrap(self, value):
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        return value

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self)[idx])
        return self._parameters[str(_index(len(self), idx))]

    def __setitem__(self, idx, value):
        setattr(self, str(_index(len(self), idx)), self._wrap(value))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value):
        setattr(self, str(len(self)), self._wrap(value))
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return _entry_lines(enumerate(self), lambda p: p.dtype)


def _entry_lines(items, kind):
    """PyTorch's lines for a ParameterList/ParameterDict: `  (key): Parameter containing:
    [<kind> of size 4x4]`, kind the dtype (a list) or the tensor type name (a dict)."""
    lines = []
    for k, p in items:
        if isinstance(p, Tensor):
            what = "Parameter" if isinstance(p, Parameter) else "Tensor"
            size = "x".join(str(n) for n in p.shape)
            device = f" ({p.device})" if p.device.type == "cuda" else ""
            lines.append(f"  ({k}): {what} containing: [{kind(p)} of size {size}{device}]")
        else:
            lines.append(f"  ({k}): Object of type: {type(p).__name__}")
    return "\n".join(lines)


class ParameterDict(Module):
    """A dict of registered Parameters; plain tensors become Parameters."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        setattr(self, key, ParameterList._wrap(self, value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def update(self, parameters):
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for k, v in items:
            self[k] = v

    def extra_repr(self):
        return _entry_lines(self.items(), lambda p: p.type())
