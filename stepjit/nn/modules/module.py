"""`nn.Module`: the registry of parameters, buffers and submodules behind every layer.

Follows PyTorch's design: three ordered dicts (`_parameters`, `_buffers`,
`_modules`) filled by `__setattr__` when a Parameter / Module is assigned and
read back by `__getattr__`, so `self.weight` in `forward` is a dict lookup.
Everything else (recursion, state_dict, dtype conversion) walks those dicts.
Values stay the very objects the user assigned: an optimizer holding a
parameter sees every later change to it, and a tracer lifts it by identity.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple

from ... import jit as _jit
from ...autograd.grad_mode import no_grad
from ...ir.types import FLOAT, bfloat16, float16, float32, float64, storage_dtype
from ...ops.convert import resolve_device, to_args
from ...ops.creation import zeros
from ...tensor import Tensor
from ..parameter import Buffer, Parameter, UninitializedTensorMixin
from .hooks import HookMethods, RemovableHandle, call_with_hooks

COMPILE = None   # stepjit.compile, set by the public API (api.py): nn sits below the runtime



class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(s, n):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


class Module(HookMethods):
    training: bool

    def __init__(self):
        # object.__setattr__: our __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        if "_hooks_on" in self.__dict__:   # (registered hooks: nn/modules/hooks.py)
            return call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # -- registration -----------------------------------------------------------
    def _check_name(self, name, kind):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')

    def register_parameter(self, name, param):
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(stepjit.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters "
                             "must be created explicitly.")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(stepjit Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def _forget(self, name, keep=None):
        """Drop `name` from every registry but `keep`, so one name lives in exactly one place.

        Keeping the registry being assigned to keeps the name's position in it, so
        replacing a layer or a weight does not reorder parameters() or state_dict().
        """
        for d in (self.__dict__, self._parameters, self._buffers, self._modules):
            if d is not keep:
                d.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=params)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(stepjit.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(stepjit.nn.Module or None expected)")
            self._modules[name] = None
        elif isinstance(value, Buffer):
            if params is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self.register_buffer(name, value, value.persistent)
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(stepjit.Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails: parameters, buffers and modules live here.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        scripted = _jit.script_only(self, name)   # (`jit.script(model).save(path)`)
        if scripted is not None:
            raise scripted
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    # -- traversal ------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        """(qualified name, tensor) over one registry of self (and of submodules if recurse)."""
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        seen = set()
        for mod_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        module = self
        for item in target.split(".") if target else []:
            if item not in module._modules:
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = module._modules[item]
        return module

    def _owner_of(self, target, what):
        """(module, attribute name) for a dotted target `block.0.weight`."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        return module, name

    def get_parameter(self, target):
        module, name = self._owner_of(target, "parameter")
        if name not in module._parameters:
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return module._parameters[name]

    def get_buffer(self, target):
        module, name = self._owner_of(target, "buffer")
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    def set_submodule(self, target, module, strict=False):
        """Put `module` at the dotted path `target` (its parent must exist; with strict=True
        the name must already hold a submodule)."""
        if not target:
            raise ValueError("Cannot set the submodule without a target name!")
        path, _, name = target.rpartition(".")
        parent = self.get_submodule(path)
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        if strict and name not in parent._modules:
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        setattr(parent, name, module)

    def compile(self, *args, **kwargs):
        """Compile this module's forward in place (torch's Module.compile): calls keep running
        its hooks, and state_dict keys stay the module's own."""
        self.forward = COMPILE(type(self).forward.__get__(self), *args, **kwargs)

    def apply(self, fn):
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- modes and gradients -------------------------------------------------------
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            zero_grad_of(p, set_to_none)

    # -- dtype and device ----------------------------------------------------------
    def _apply(self, fn):
        """Replace every parameter's data (in place, keeping the object) and every buffer by fn(.)."""
        for module in self.children():
            module._apply(fn)
        with no_grad():
            for p in self._parameters.values():
                if p is None:
                    continue
                p.data = fn(p)
                if p._grad is not None:
                    p.grad = fn(p._grad)
            for name, b in self._buffers.items():
                if b is not None:
                    self._buffers[name] = fn(b)
        return self

    def share_memory(self):
        """Parameters, their gradients and buffers moved to memory shared between processes
        (Tensor.share_memory_), keeping every tensor object: Hogwild training."""
        return self._apply(lambda t: t.share_memory_())

    def to(self, *args, **kwargs):
        dtype, device = to_args(args, kwargs.pop("dtype", None), kwargs.pop("device", None))
        if device is not None:
            dev = resolve_device(device)  # raises for CUDA where no device is available
            if dev.type != "meta" and any(t.is_meta for t in self._tensors()):
                raise NotImplementedError(
                    "Cannot copy out of meta tensor; no data! Please use "
                    "torch.nn.Module.to_empty() instead of torch.nn.Module.to() when moving "
                    "module from meta to a different device.")
            self._apply(lambda t: t.to(dev))
        if dtype is None:
            return self
        dtype = storage_dtype(dtype)   # (bfloat16: parameters stored so, ir/bfloat16.py)
        if dtype.category != FLOAT:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired "
                            f"dtype={dtype.name}")
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def half(self):
        return self.to(float16)      # (refused as Tensor.to refuses it: float32/float64 only)

    def bfloat16(self):
        return self.to(bfloat16)

    def to_empty(self, *, device=None, recurse=True):
        """Parameters and buffers replaced by uninitialized ones on `device` (here: zeros),
        the step after building on the meta device."""
        dev = resolve_device(device if device is not None else "cpu")
        return self._apply(lambda t: zeros(tuple(t.shape), dtype=t.dtype, device=dev))

    def _tensors(self):
        """Every parameter and buffer of the tree."""
        for m in self.modules():
            yield from (p for p in m._parameters.values() if p is not None)
            yield from (b for b in m._buffers.values() if b is not None)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def type(self, dst_type):
        return self._apply(lambda t: t.to(dst_type))

    # -- state_dict ----------------------------------------------------------------
    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        return destination

    def _local_state(self):
        """This module's own entries that a state_dict holds (name -> tensor)."""
        state = {k: v for k, v in self._parameters.items() if v is not None}
        state.update((k, v) for k, v in self._buffers.items()
                     if v is not None and k not in self._non_persistent_buffers_set)
        return state

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy (or with assign=True, bind) every entry of `state_dict` into this module tree.

        Walks `_modules` without de-duplication, as PyTorch does, so a module reachable
        under two names expects its entries under both (as state_dict() writes them).
        Missing and unexpected keys are collected per module in that walk's order.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors = [], [], []
        state_dict = OrderedDict(state_dict)   # (a load pre-hook may rename its entries)
        self._run_load_pre_hooks(state_dict, "", strict, missing, unexpected, errors)
        self._load_tree(state_dict, "", assign, missing, unexpected, errors)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t"
                               + "\n\t".join(errors))
        return _IncompatibleKeys(missing, unexpected)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """PyTorch's private hook, called as hook(state_dict, prefix, local_metadata, strict,
        missing_keys, unexpected_keys, error_msgs) before this module's entries are read
        (weight_norm's renaming of legacy keys uses it)."""
        hooks = self.__dict__.setdefault("_load_state_dict_pre_hooks", OrderedDict())
        handle = RemovableHandle(hooks)
        hooks[handle.id] = (lambda *a: hook(self, *a)) if with_module else hook
        return handle

    def _run_load_pre_hooks(self, state_dict, prefix, strict, missing, unexpected, errors):
        """Every module's load pre-hooks, parents first, before any entry is read."""
        for hook in self.__dict__.get("_load_state_dict_pre_hooks", {}).values():
            hook(state_dict, prefix, {}, strict, missing, unexpected, errors)
        for name, child in self._modules.items():
            if child is not None:
                child._run_load_pre_hooks(state_dict, prefix + name + ".", strict, missing,
                                          unexpected, errors)

    def _load_tree(self, state_dict, prefix, assign, missing, unexpected, errors):
        local = self._local_state()
        for name, target in local.items():
            key = prefix + name
            if key not in state_dict:
                missing.append(key)
            else:
                _load_one(self, name, target, state_dict[key], key, assign, errors)
        for key in state_dict.keys():
            if not key.startswith(prefix):
                continue
            head, *rest = key[len(prefix):].split(".", 1)
            if (rest and head not in self._modules) or (not rest and head not in local):
                unexpected.append(key)
        for name, child in self._modules.items():
            if child is not None:
                child._load_tree(state_dict, prefix + name + ".", assign, missing, unexpected,
                                 errors)

    # -- printing ------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2)
                       for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return self._get_name() + "(" + body + ")"


def _load_one(module, name, target, value, key, assign, errors):
    if not isinstance(value, Tensor):
        errors.append(f'While copying the parameter named "{key}", expected stepjit.Tensor or '
                      f"Tensor-like object from checkpoint but received {type(value)}")
        return
    if _uninitialized(value) and _uninitialized(target):
        return          # a lazy layer's entry that never ran, into a lazy layer: it stays lazy
    if tuple(value.shape) != tuple(target.shape):
        errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} from "
                      f"checkpoint, the shape in current model is {target.shape}.")
        return
    if not assign and target.is_meta and not value.is_meta:
        warnings.warn(f"for {key}: copying from a non-meta parameter in the checkpoint to a meta "
                      "parameter in the current model, which is a no-op. (Did you mean to pass "
                      "`assign=True` to assign items in the state dictionary to their "
                      "corresponding key in the module instead of copying them in place?)")
        return
    with no_grad():
        if not assign:
            target.copy_(value)
        elif isinstance(target, Parameter):
            setattr(module, name, Parameter(value, target.requires_grad))
        else:
            setattr(module, name, value)


def _uninitialized(t) -> bool:
    return isinstance(t, UninitializedTensorMixin)


def zero_grad_of(p, set_to_none):
    """PyTorch's zero_grad for one tensor: drop the grad, or detach it and fill it with zeros."""
    g = p._grad
    if g is None:
        return
    if set_to_none:
        p.grad = None
        return
    if g.grad_fn is not None:
        g.detach_()
    else:
        g.requires_grad_(False)
    with no_grad():
        g.zero_()
