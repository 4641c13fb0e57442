"""`optim.Optimizer`: parameter groups, per-parameter state, zero_grad and state_dict.

Design notes for the compiler (DESIGN §5, §6):
- Hyperparameters live only in `param_groups` dicts and are read at every
  `step()`, so changing `group['lr']` takes effect on the next step.
- Updates are stepjit in-place tensor ops under no_grad (`p.add_`, `buf.mul_`),
  never NumPy, so a tracer sees them as functionalized writes to lifted state.
- State tensors are created on a parameter's first step (a trace of the first
  step therefore describes a first call only; the runtime retraces).
- Step counters are 0-dim float32 tensors bumped with `add_(1)`, as in PyTorch,
  so the count is data, not a Python constant baked into a trace.
"""
from __future__ import annotations

import copy
from collections import defaultdict

from .. import dispatch
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor
from ..nn.modules.module import zero_grad_of


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    runtime_hyperparams = ("lr",)   # group values a compiled step reads on every call

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                            "the ordering of tensors in sets will change between runs. Please use a "
                            "list instead.")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group, params=params)
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                zero_grad_of(p, set_to_none)

    def step(self, closure=None):
        """Evaluate closure (with grad enabled) and update every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for i, group in enumerate(self.param_groups):
                # While a compiled step is traced, read_group lifts the hyperparameters in
                # `runtime_hyperparams` (lr) as per-call inputs and guards the rest.
                hp = dispatch.read_group(self, i, group)
                for p in group["params"]:
                    if p.grad is not None:
                        self._update_one(p, hp)
        return loss

    def _update_one(self, p, group):
        # A parameter gets a state entry only once its update stores something (plain SGD
        # keeps none), so state_dict() lists what PyTorch's lists.
        state = self.state.get(p)
        if state is None:
            state = {}
            self._update(p, p.grad, group, state)
            if state:
                self.state[p] = state
        else:
            self._update(p, p.grad, group, state)

    def _update(self, p, grad, group, state):
        raise NotImplementedError(f"{type(self).__name__} does not implement its update rule")

    # -- state_dict -----------------------------------------------------------
    def state_dict(self):
        """PyTorch's layout: state and groups refer to parameters by their position (0, 1, ...)."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        state_dict = copy.deepcopy(state_dict)  # the caller's dict and tensors stay untouched
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the "
                             "size of optimizer's group")
        by_index = {i: p for g, s in zip(self.param_groups, saved_groups)
                    for i, p in zip(s["params"], g["params"])}
        self.state = defaultdict(dict)
        for i, s in state_dict["state"].items():
            if i in by_index:
                p = by_index[i]
                self.state[p] = {k: _cast_state(k, v, p) for k, v in s.items()}
        self.param_groups = [dict(s, params=g["params"]) for g, s in zip(self.param_groups, saved_groups)]

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        return "\n".join(lines) + "\n)"


def _cast_state(key, value, param):
    """Floating state follows the parameter's dtype, except the step counter (PyTorch's rule)."""
    if key != "step" and isinstance(value, Tensor) and value.is_floating_point():
        return value.to(param.dtype)
    return value
