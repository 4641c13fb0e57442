"""Backward nodes of the tape (`grad_fn`), and the saved values they read.

A node's `next_functions` are (node, output_nr) edges to the nodes that produced
its inputs, in input order; a leaf that requires grad is reached through its
AccumulateGrad node, an input without gradient through (None, 0).
Saved values carry the version they were saved at: an in-place change to a
saved tensor makes backward raise, as in PyTorch. A saved tensor that requires
grad also records where its gradient goes (its grad_fn and output number, or the
leaf itself: `source`), so that a backward with `create_graph=True`
(docs/autograd.md) can hand the VJP rules the saved value *with its history*:
the rules' ops are then taped like any forward op, and the gradient they compute
can be differentiated again.

Saved-tensor hooks (`autograd.graph.saved_tensors_hooks`, graph.py) replace what a
SavedTensor holds: while a pair is active, every tensor an op saves is handed to its
pack hook and only the packed object is kept (`data` is None, so the array fast paths
of array_vjp.py step aside); reading the value back (backward, `ctx.saved_tensors`,
`grad_fn._saved_self`) calls the unpack hook each time, as PyTorch does.
"""
from __future__ import annotations

import weakref

from .forward_ad import STATE as _FORWARD
from .grad_mode import STATE as GRAD

_FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved "
              "tensors after they have already been freed). Saved intermediate values of the graph "
              "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
              "you need to backward through the graph a second time or if you need to access saved "
              "tensors after calling backward.")


class SavedTensor:
    __slots__ = ("data", "version", "saved_version", "tensor", "source", "output_nr", "hooked",
                 "fw")

    def __new__(cls, t, keep_object=False):
        return save_tensor(t, keep_object)   # (one place sets the fields: save_tensor)

    def unpack(self, node_name: str):
        if self.version.value != self.saved_version:
            shape, dtype = (self.data.shape, self.data.dtype) if self.hooked is None \
                else self.hooked[2]
            shape = "[" + ", ".join(str(d) for d in shape) + "]"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{dtype} {shape}], which is used by {node_name}, "
                f"is at version {self.version.value}; expected version {self.saved_version} instead.")
        if self.hooked is not None:
            return self._unpack_hooked(node_name)
        if self.tensor is not None:
            return self.tensor
        return (_TENSOR or _tensor_class())._make(self.data)

    def _unpack_hooked(self, node_name):
        """The unpack hook's tensor: itself for a custom Function (its ctx.saved_tensors), else
        a fresh tensor on its array, so that the history a backward gives the value never
        lands on an object the hook hands out (a tensor it kept, or the original)."""
        packed, unpack_hook, (shape, _), function_saved = self.hooked
        t = unpack_hook(packed)
        Tensor = _TENSOR or _tensor_class()
        if not isinstance(t, Tensor):
            raise TypeError(f"{node_name}: output of saved tensor unpack_hook expected to be a "
                            f"Tensor but got result of type {type(t).__name__}")
        if tuple(t.shape) != tuple(shape):
            raise RuntimeError(f"{node_name}: saved tensor unpack_hook returned a tensor of shape "
                               f"{list(t.shape)}; the tensor it packed had shape {list(shape)}")
        return t if function_saved else Tensor._make(t._data)

    def unpack_with_history(self, node, is_output):
        """The saved value as a tensor whose gradient flows where the saved tensor's did: for a
        backward that builds a graph (create_graph). `is_output`: the value is the node's own
        result (saved before the node was attached to it, so its history is the node)."""
        t = self.unpack(node._name)
        if self.tensor is not None or (self.hooked is not None and self.hooked[3]):
            return t   # a custom Function's saved object (or its hook's tensor): itself
        t._version = self.version   # one storage: later in-place writes are seen by the
        if is_output:               # nodes the taped rules save, as by this one
            return _with_history(t, node, 0)
        source = self.source
        if source is None:
            return t
        if isinstance(source, Node):
            return _with_history(t, source, self.output_nr)
        if self.hooked is not None and source._requires_grad:
            return source   # a leaf saved through hooks: itself, so its gradient reaches .grad
        if source._data is not self.data or not source._requires_grad:
            raise RuntimeError(
                f"{node._name}: a leaf tensor saved for backward had its .data replaced or was "
                "detached in place (detach_) before a backward with create_graph=True; the "
                "gradient of its gradient cannot be recorded")
        return source   # a leaf: the tensor itself, so its gradient reaches its .grad


def _with_history(t, grad_fn, output_nr):
    t._grad_fn = grad_fn
    t._output_nr = output_nr
    t._requires_grad = True
    return t


def save_tensor(t, keep_object=False):
    """A SavedTensor of t: its array, its version counter and the version now. A plain function
    (SavedTensor(...) calls it too): the eager recorder makes one on every op, and a class call
    running Python code costs more."""
    s = _new(SavedTensor)
    s.hooked = None
    s.data = t._data
    s.version = v = t._version
    s.saved_version = v.value
    # Custom Functions hand back the very tensors they saved, as PyTorch does.
    s.tensor = t if keep_object else None
    # Where its gradient goes (its grad_fn, or the leaf itself), read now as PyTorch's saved
    # variables do: a backward with create_graph gives the rules the value with that history.
    # (Not the tensor object itself: a trace-time tensor must not outlive its trace.)
    if t._requires_grad:
        gf = t._grad_fn
        s.source = t if gf is None else gf
    else:
        s.source = None
    s.output_nr = t._output_nr
    s.fw = t._fw   # its forward-mode tangent, for a backward run inside a dual level
    if SAVED_HOOKS:
        SAVED_HOOKS[-1](s, t)   # graph.py: packs t, drops s.data
    return s


_new = object.__new__
# The active saved-tensor hook pairs, innermost last (graph.py pushes and pops them): each is
# a function(saved, tensor) that packs the tensor into the SavedTensor.
SAVED_HOOKS: list = []


def _tensor_class():
    """stepjit.tensor.Tensor, imported on first use (it imports this module)."""
    global _TENSOR
    if _TENSOR is None:
        from ..tensor import Tensor
        _TENSOR = Tensor
    return _TENSOR


_TENSOR = None


class Node:
    """Base of every grad_fn. Subclasses implement `apply(grads) -> tuple per edge`.
    `edges` are what the engine follows; `next_functions` what a user walks (the same, but
    for a composite op's last node: see show_edges)."""
    __slots__ = ("edges", "pre_hooks", "retained", "_freed", "loc", "__weakref__")
    _name = "Node"
    has_saved = False
    n_outputs = 1  # a class default; FunctionBackward has a slot for its own count

    def __init__(self, edges):
        self.edges = edges
        self.pre_hooks = None   # {output_nr: [hook, ...]} from register_hook on outputs
        self.retained = None    # {output_nr: weakref to tensor} from retain_grad
        self._freed = False
        self.loc = None         # while tracing: where the forward op was written

    def name(self) -> str:
        return self._name

    @property
    def next_functions(self):
        return _SHOWN.get(self, self.edges)

    def __repr__(self) -> str:
        return f"<{self._name} object at {hex(id(self))}>"

    def add_pre_hook(self, output_nr, hook):
        if self.pre_hooks is None:
            self.pre_hooks = {}
        self.pre_hooks.setdefault(output_nr, []).append(hook)

    def retain(self, output_nr, tensor):
        if self.retained is None:
            self.retained = {}
        self.retained[output_nr] = weakref.ref(tensor)

    def check_not_freed(self):
        if self._freed and self.has_saved:
            raise RuntimeError(_FREED_MSG)

    def release(self):
        self._freed = True


# A composite op's last node -> the edges PyTorch's node for the op has: to the op's own inputs,
# past the primitives' nodes inside it (mean is sum then div; PyTorch shows MeanBackward0 ->
# the input's node). Only what a user walks reads it; the engine follows `edges`.
_SHOWN = weakref.WeakKeyDictionary()


def show_edges(node, inputs):
    """Make node's next_functions the edges into `inputs` (tensors, or None for an argument
    with no gradient), as PyTorch's node for the composite op lists them."""
    _SHOWN[node] = tuple(x._grad_edge() if getattr(x, "_requires_grad", False) else (None, 0)
                         for x in inputs)


_CLASSES: dict[str, type] = {}


def node_class(base: type, name: str) -> type:
    """A subclass named as PyTorch names the node (AddBackward0), so type(grad_fn) reads right."""
    key = (base, name)
    cls = _CLASSES.get(key)
    if cls is None:
        # (no module, as PyTorch's C++ node classes: type(grad_fn) prints <class 'AddBackward0'>)
        cls = type(name, (base,), {"__slots__": (), "_name": name, "__module__": "builtins"})
        _CLASSES[key] = cls
    return cls


def sum_to(g, shape):
    """Sum a gradient of a broadcast shape back to `shape` (tensor ops only, so it traces)."""
    gshape = tuple(g.shape)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, d in enumerate(shape) if d == 1 and gshape[i + lead] != 1)
    if axes:
        g = g.sum(axes, keepdim=True)
    return g.reshape(shape)


def fit_grad(g, shape, dtype):
    """A rule's gradient as its input's gradient: summed back to its shape, cast to its dtype."""
    if g._data.shape != shape:  # _data: an array eagerly, an IR Value while tracing
        g = sum_to(g, tuple(shape))
    if g._data.dtype is not dtype.np and g.dtype is not dtype:   # the first test: eager arrays
        g = g.to(dtype)
    return g


class BackwardPlan:
    """What every PrimBackward node of one primitive signature reads at backward, derived once
    and shared: per needed input, its VJP rule with the constants it asks for already bound
    (`in_shapes`, `index`), the attributes and saved values it reads, and the input's shape and
    dtype its gradient is fitted to; and what the forward must save."""
    __slots__ = ("cls", "needs", "n_inputs", "calls", "save", "arrays", "numbers")

    def __init__(self, cls, prim, needs, in_shapes, in_dtypes):
        self.cls = cls
        self.needs = needs
        self.n_inputs = len(needs)
        saved_names = []
        calls = []
        for i, needed in enumerate(needs):
            if needed:
                rule = prim.vjp_for(i)
                reads = tuple(n for n in rule.needs if _is_saved(prim, n))
                saved_names.extend(n for n in reads if n not in saved_names)
                consts = {n: in_shapes if n == "in_shapes" else i
                          for n in rule.needs if n in ("in_shapes", "index")}
                attrs = tuple(n for n in rule.needs
                              if n not in reads and n not in ("in_shapes", "index"))
                calls.append((i, rule.fn, consts, attrs, reads, in_shapes[i], in_dtypes[i]))
        self.calls = tuple(calls)
        # (name, where): where is "out", "xs" or the index of the input to save.
        self.save = tuple((n, n if n in ("out", "xs") else prim.inputs.index(n))
                          for n in saved_names)
        self.arrays = {}   # eager: the rules as straight-line NumPy code, by key (array_vjp.py)
        self.numbers = None   # the saved values that are Python numbers, once tape.py looked


def _is_saved(prim, name):
    return name in ("out", "xs") or name in prim.inputs


class PrimBackward(Node):
    """Backward of one primitive application: calls the registry's VJP rule per needed input."""
    __slots__ = ("plan", "attrs", "saved")

    def apply(self, grads):
        saved = self.saved
        if saved is None:  # released by a backward without retain_graph
            raise RuntimeError(_FREED_MSG)
        if GRAD.create_graph:   # the rules' ops taped, on the saved values with their history
            return run_rules(self.plan, grads[0], self.attrs,
                             lambda n: _unpack_with_history(saved[n], self, n))
        if _FORWARD.token is not None:   # the rules' ops carry tangents: on the saved tangents
            name = self._name
            return run_rules(self.plan, grads[0], self.attrs, lambda n: _unpack_dual(saved[n], name))
        out = (_ARRAY_VJP or _array_vjp()).run(self, grads[0], saved)
        if out is None:
            name = self._name
            out = run_rules(self.plan, grads[0], self.attrs, lambda n: _unpack(saved[n], name))
        return out

    def release(self):
        # A node that saved nothing can be run again, as in PyTorch.
        self._freed = True
        if self.saved:
            self.saved = None

    def __getattr__(self, attr):
        """PyTorch's `grad_fn._saved_<name>`: a value the node saved, read back as backward
        reads it (through the unpack hook, if one packed it; with the history it had).
        PyTorch's argument names (self, other, result, exponent...) name the primitive's
        inputs by position, and the registry's own input names work too."""
        if not attr.startswith("_saved_"):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")
        want = attr[len("_saved_"):]
        for name, where in self.plan.save:
            if want == name or want in _TORCH_SAVED_NAMES.get(where, ()):
                if self.saved is None:
                    raise RuntimeError(_FREED_MSG)
                v = self.saved[name]
                if type(v) is SavedTensor:
                    return _saved_as_attribute(v, self, where == "out")
                if type(v) is list:
                    return [_saved_as_attribute(x, self, False) if type(x) is SavedTensor else x
                            for x in v]
                return v
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")


# PyTorch's names (derivatives.yaml) for what a node saved, by where stepjit's plan took it.
_TORCH_SAVED_NAMES = {"out": ("result",), 0: ("self", "input"),
                      1: ("other", "exponent", "mat2", "weight"), "xs": ("tensors",)}


def _saved_as_attribute(v, node, is_output):
    try:
        return v.unpack_with_history(node, is_output)
    except RuntimeError as e:
        if "modified by an inplace operation" in str(e):
            raise
        return v.unpack(node._name)   # a leaf whose .data was replaced: its saved value


def run_rules(plan, g, attrs, read):
    """The gradient per input (None where not needed) by the plan's VJP rules, each fitted to
    its input; `read(name)` gives a saved value as the rule reads it."""
    out = [None] * plan.n_inputs
    for i, fn, consts, attr_names, reads, shape, dtype in plan.calls:
        kwargs = dict(consts)
        for name in attr_names:
            kwargs[name] = attrs[name]
        for name in reads:
            kwargs[name] = read(name)
        gi = fn(g, **kwargs)
        if gi is not None:
            gi = fit_grad(gi, shape, dtype)
        out[i] = gi
    return out


def _array_vjp():
    """stepjit.autograd.array_vjp, imported on first use (it imports dispatch, which imports
    this module)."""
    global _ARRAY_VJP
    if _ARRAY_VJP is None:
        from . import array_vjp
        _ARRAY_VJP = array_vjp
    return _ARRAY_VJP


_ARRAY_VJP = None


def _unpack(v, node_name):
    """A saved value as the VJP rule reads it: a tensor, a Python value, or a list of them."""
    if type(v) is SavedTensor:
        return v.unpack(node_name)
    if type(v) is list:   # "xs"
        return [x.unpack(node_name) if type(x) is SavedTensor else x for x in v]
    return v


def _unpack_dual(v, node_name):
    """A saved value with the tangent it had when saved (forward over reverse)."""
    if type(v) is list:   # "xs"
        return [_unpack_dual(x, node_name) for x in v]
    if type(v) is not SavedTensor:
        return v
    t = v.unpack(node_name)
    if v.fw is not None and v.tensor is None:
        t._fw = v.fw
    return t


def _unpack_with_history(v, node, name):
    if type(v) is SavedTensor:
        return _tangent_back(v, v.unpack_with_history(node, name == "out"))
    if type(v) is list:   # "xs"
        return [_tangent_back(x, x.unpack_with_history(node, False)) if type(x) is SavedTensor
                else x for x in v]
    return v


def _tangent_back(v, t):
    """t, the value v saved, with the forward-mode tangent it had when saved (a new tensor
    made for the rules; the user's own tensor keeps its own)."""
    if v.fw is not None and _FORWARD.token is not None and t._fw is None:
        t._fw = v.fw
    return t


class AccumulateGrad(Node):
    """The edge into a leaf: the engine adds the incoming gradient to `variable.grad`."""
    __slots__ = ("variable",)
    _name = "AccumulateGrad"

    def __init__(self, variable):
        super().__init__(())
        self.variable = variable

    def apply(self, grads):
        return ()
