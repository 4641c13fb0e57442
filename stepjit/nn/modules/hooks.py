"""Module hooks, as PyTorch's: forward pre-hooks, forward hooks, full backward (pre-)hooks,
each registered with a handle whose `remove()` takes it out again.

A module without hooks is called as before (`Module.__call__` looks for `_hooks_on` in the
instance dict and calls `forward`). With hooks, `call_with_hooks` runs PyTorch's order:
pre-hooks (may replace the arguments), forward, forward hooks (may replace the output).
Backward hooks follow PyTorch's design: the tensor arguments and the outputs pass through
identity autograd Functions; the outputs' one records the gradients flowing into the
module's outputs (and runs backward pre-hooks, which may replace them), the inputs' one
calls each backward hook with (module, grad_input, grad_output) and uses what a hook
returns as the new grad_input. Being autograd Functions, they run the same way in an eager
backward and in a traced one (a hook then sees trace-time tensors: shapes, dtypes and
further tensor work are fine; reading values is a data-dependent decision, as anywhere).
"""
from __future__ import annotations

import itertools
from collections import OrderedDict

from ...autograd.function import Function
from ...autograd.grad_mode import STATE as GRAD
from ...tensor import Tensor

_IDS = itertools.count()


class RemovableHandle:
    """What register_*_hook returns: `remove()` unregisters; also a context manager."""

    def __init__(self, hooks_dict, extra=()):
        self.hooks_dict_ref = hooks_dict
        self.id = next(_IDS)
        self._extra = extra

    def remove(self):
        self.hooks_dict_ref.pop(self.id, None)
        for d in self._extra:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_KINDS = ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks", "_backward_pre_hooks")


def _hooks(module, kind):
    d = module.__dict__
    if kind not in d:
        for k in _KINDS:
            d.setdefault(k, OrderedDict())
        d.setdefault("_hooks_with_kwargs", set())
        d.setdefault("_hooks_always_call", set())
    d["_hooks_on"] = True
    return d[kind]


class HookMethods:
    """The register_* methods of nn.Module."""

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        return _register(self, "_forward_pre_hooks", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        handle = _register(self, "_forward_hooks", hook, prepend, with_kwargs)
        if always_call:
            self.__dict__["_hooks_always_call"].add(handle.id)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        return _register(self, "_backward_hooks", hook, prepend, False)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        return _register(self, "_backward_pre_hooks", hook, prepend, False)

    def register_backward_hook(self, hook):
        """PyTorch's deprecated form; here the same as register_full_backward_hook."""
        return self.register_full_backward_hook(hook)


def _register(module, kind, hook, prepend, with_kwargs):
    if not callable(hook):
        raise TypeError(f"{kind[1:-1]}: hook must be callable, got {type(hook).__name__}")
    hooks = _hooks(module, kind)
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    if with_kwargs:
        module.__dict__["_hooks_with_kwargs"].add(handle.id)
    return handle


def call_with_hooks(module, args, kwargs):
    d = module.__dict__
    with_kwargs = d["_hooks_with_kwargs"]
    for hid, hook in list(d["_forward_pre_hooks"].items()):
        if hid in with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result!r}.")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    state = None
    if (d["_backward_hooks"] or d["_backward_pre_hooks"]) and GRAD.enabled:
        state = _BackwardState(module)
        args = state.wrap_inputs(args)
    try:
        output = module.forward(*args, **kwargs)
    except Exception:
        _always_call(module, args, kwargs)   # always_call hooks run even when forward raised
        raise
    for hid, hook in list(d["_forward_hooks"].items()):
        result = hook(module, args, kwargs, output) if hid in with_kwargs \
            else hook(module, args, output)
        if result is not None:
            output = result
    if state is not None:
        output = state.wrap_outputs(output)
    return output


def _always_call(module, args, kwargs):
    d = module.__dict__
    for hid, hook in list(d["_forward_hooks"].items()):
        if hid in d["_hooks_always_call"]:
            try:
                if hid in d["_hooks_with_kwargs"]:
                    hook(module, args, kwargs, None)
                else:
                    hook(module, args, None)
            except Exception:
                pass   # the forward's own exception is the one to report


class _BackwardState:
    """One call's link between the outputs' gradients and the inputs' hook calls."""

    def __init__(self, module):
        self.module = module
        self.grad_outputs = None
        self.n_inputs = 0
        self.inputs_wrapped = False

    def wrap_inputs(self, args):
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.n_inputs = sum(isinstance(a, Tensor) for a in args)
        if not positions:
            return args
        self.inputs_wrapped = True
        self._tensor_slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        outs = _InputHook.apply(self, *[args[i] for i in positions])
        outs = outs if isinstance(outs, tuple) else (outs,)
        args = list(args)
        for i, o in zip(positions, outs):
            args[i] = o
        self._positions = positions
        return tuple(args)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        items = (output,) if single else output
        if not isinstance(items, (tuple, list)):
            return output
        positions = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        if not positions:
            return output
        self._out_shapes = [(tuple(items[i].shape), items[i].dtype) for i in positions]
        outs = _OutputHook.apply(self, *[items[i] for i in positions])
        outs = outs if isinstance(outs, tuple) else (outs,)
        new = list(items)
        for i, o in zip(positions, outs):
            new[i] = o
        return new[0] if single else type(items)(new)

    def on_grad_outputs(self, grads):
        grads = tuple(grads)
        for hook in list(self.module.__dict__["_backward_pre_hooks"].values()):
            result = hook(self.module, grads)
            if result is not None:
                grads = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        self.grad_outputs = grads
        if not self.inputs_wrapped:   # no input needs a gradient: the hooks run now
            self._run_hooks((None,) * max(self.n_inputs, 1))
        return grads

    def on_grad_inputs(self, grads):
        full = [None] * len(self._tensor_slots)
        for p, g in zip(self._positions, grads):
            full[self._tensor_slots.index(p)] = g
        new = self._run_hooks(tuple(full))
        return tuple(new[self._tensor_slots.index(p)] for p in self._positions)

    def _run_hooks(self, grad_input):
        for hook in list(self.module.__dict__["_backward_hooks"].values()):
            result = hook(self.module, grad_input, self.grad_outputs)
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_input):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input,"
                                       f" got {len(result)}, but expected {len(grad_input)}")
                grad_input = result
        return grad_input


class _InputHook(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tensors if len(tensors) > 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.state.on_grad_inputs(grads))


class _OutputHook(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tensors if len(tensors) > 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.state.on_grad_outputs(grads))
