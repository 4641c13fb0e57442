"""NumPy arrays passed to a compiled step: tensor inputs of its trace, as torch.compile makes them.

TorchDynamo treats an ndarray argument as a tensor input: guarded on its shape and dtype, its
values read on every call, never baked into the graph. stepjit does the same for an array of a
dtype it computes in: the call wraps it in a tensor over the same memory (input_tensor, from
trace.flat_args), which the guards check (shape, dtype) and the trace binds as an argument. The
step's Python receives an ArrayArgument in the array's place, and the factories make it the
traced input, as they would make the array a tensor eagerly: `from_numpy(x)` and `as_tensor(x)`
share it (a write through the tensor reaches the caller's array after the call, as eagerly),
`tensor(x)` copies it. So a step that turns its arrays into tensors is traced once for all their
contents.

An array bound directly to a global the step's code names or to a cell of its closure (a
loader's current batch kept in an enclosing variable, a parser's minibatch arrays) is an input
the same way (NamedArrays): while the step is traced the name holds an ArrayArgument, and the
trace reads the name on every call (an ArrayPlace slot, as sources.py reads a global tensor),
wrapping whatever array it then holds, guarded on shape and dtype. A new array per batch, or the
same array's contents changed in place, is read by the next call: neither is baked in.

Any other use of the array (NumPy arithmetic, `np.mean(x)`, `x[i]`, `x.astype(...)`, printing)
computes with the concrete array, as the step's Python did before, and makes the trace describe
this call only: the step's Python runs on every call from then on, and a warning names the line.
(Dynamo traces such NumPy code through torch._numpy; stepjit does not trace NumPy, so its
results stay what eager gives: NumPy arrays computed from this call's values.) Shape and dtype
queries are free: the guards cover them.
"""
from __future__ import annotations

import gc
import sys
import types

import numpy as np

from .. import dispatch
from ..errors import user_location
from ..ir.types import COMPLEX, REDUCED_FLOATS, _BY_NP
from ..tensor import Tensor
from .helpers import global_names
from .pytree import flatten, unflatten
from .sources import NamePlace, is_direct_name
from .values import _MAX_ARRAY, ArrayGuard

# a larger array of the user's objects used as NumPy makes its trace describe its call only:
# comparing it on every call (~0.1 ms at this size) and keeping a copy per trace would cost
# more than the step
_MAX_VALUED = 1 << 18

# the attributes the guards cover (shape and dtype are checked on every call)
_GUARDED = frozenset({"shape", "dtype", "ndim", "size", "itemsize", "nbytes"})


def input_tensor(x):
    """The tensor a compiled call takes the NumPy array x as (same memory), or None when x is
    not an array stepjit computes on (another object, an object or complex array, a byte order
    not the machine's): such an argument stays a Python value of the trace."""
    if not isinstance(x, np.ndarray):
        return None
    dt = _BY_NP.get(x.dtype)
    if dt is None or dt in REDUCED_FLOATS or dt.category == COMPLEX:
        return None
    return Tensor._make(x.view(np.ndarray))


class ArrayArgument:
    """What a traced step receives for an ndarray argument: `tensor` is the traced input,
    `array` the caller's array. Only the factories (from_numpy, as_tensor, tensor) and the
    guarded queries use it as an input; anything else reads the array and makes the trace
    describe this call only (module docstring)."""
    __slots__ = ("array", "tensor", "tracer", "label", "places")
    __array_priority__ = 1000   # `a + x`, a an ndarray: NumPy defers to the methods below
    is_array_argument = True    # what the factories test (the front end does not import tracer)

    def __init__(self, array, tensor, tracer, label=None, places=None):
        object.__setattr__(self, "array", array)
        object.__setattr__(self, "tensor", tensor)
        object.__setattr__(self, "tracer", tracer)
        object.__setattr__(self, "label", label)   # the name holding it (NamedArrays), if any
        # the attributes or items holding it, when a use as NumPy is guarded by value
        # (NamedArrays: an array of the user's objects, up to _MAX_VALUED elements)
        object.__setattr__(self, "places", places)

    @property
    def __class__(self):
        # `isinstance(x, np.ndarray)` holds, as it does for what Dynamo hands a step in the
        # array's place: a step's `if isinstance(x, np.ndarray): x = torch.from_numpy(x)`
        # takes the input. (type(x) stays ArrayArgument, which the factories test.)
        return np.ndarray

    def as_tensor(self, dtype=None, copy=False):
        """What a factory makes of the array: the traced input itself (from_numpy, as_tensor
        share the caller's memory), or a copy (tensor()), in dtype when given."""
        t = self.tensor
        if t is None:   # (an array held at two places: this call's values, NamedArrays)
            t = dispatch.constant(self.used().view(np.ndarray))
        if copy:
            t = t.detach().clone()
        return t if dtype is None else t.to(dtype)

    def used(self):
        """The concrete array, for a use the trace cannot bind: guarded by value where it lives
        (`places`: a table a model keeps, `torch.from_numpy(self.table[:n])`), or else noted
        once, with its line (the trace describes this call only)."""
        if self.places is not None:
            if id(self.array) not in self.tracer.valued_arrays:
                self.tracer.valued_arrays[id(self.array)] = (self.array.copy(), self.places)
            return self.array
        if self.tracer.numpy_use is None:
            self.tracer.numpy_use = user_location(2)
            self.tracer.numpy_array = "a NumPy array argument" if self.label is None \
                else f"the NumPy array of {self.label}"
        return self.array

    def __getattr__(self, name):
        if name in _GUARDED:
            return getattr(self.array, name)
        return getattr(self.used(), name)

    def __setattr__(self, name, value):
        setattr(self.used(), name, value)

    def __len__(self):
        return len(self.array)

    def __array__(self, dtype=None, copy=None):
        a = self.used()
        return a if dtype is None else a.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(_concrete(x) for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(_concrete(x) for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return func(*_unwrap(args), **_unwrap(kwargs))

    def __repr__(self):
        return repr(self.used())

    __str__ = __repr__


def _concrete(x):
    return x.used() if type(x) is ArrayArgument else x


def _unwrap(x):
    if type(x) is ArrayArgument:
        return x.used()
    if type(x) in (list, tuple):
        return type(x)(_unwrap(v) for v in x)
    if type(x) is dict:
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _forward(name):
    """A dunder that Python looks up on the type (arithmetic, indexing, iteration, numbers):
    the array's own, on the concrete array. A stepjit tensor operand is left to the tensor's
    reflected method, which reports the ndarray as eager does."""
    def method(self, *args):
        if any(isinstance(a, Tensor) for a in args):
            return NotImplemented
        return getattr(self.used(), name)(*(_concrete(a) for a in args))
    method.__name__ = name
    return method


for _name in ("add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow "
              "rpow matmul rmatmul and rand or ror xor rxor lshift rlshift rshift rrshift "
              "neg pos abs invert lt le gt ge eq ne getitem setitem delitem iter contains "
              "float int index bool complex iadd isub imul itruediv ifloordiv imod ipow "
              "iand ior ixor reversed round").split():
    setattr(ArrayArgument, f"__{_name}__", _forward(f"__{_name}__"))
ArrayArgument.__hash__ = None


def returned_arrays(tracer, value):
    """The step's result with each ArrayArgument in it the caller's array, as eagerly. Such a
    result holds this call's array: the trace describes this call only (a use, noted)."""
    leaves, treedef = flatten(value, lambda x: type(x) is ArrayArgument)
    if not leaves:
        return value
    return unflatten(treedef, [x.used() for x in leaves])


class ArrayPlace(NamePlace):
    """A global or closure cell holding a NumPy array the step takes as an input: read() wraps
    what it holds on each call (same memory; None when it holds no array stepjit computes on,
    which fails the slot's check and retraces)."""
    __slots__ = ()

    def read(self):
        x = self.raw()
        return input_tensor(x) if type(x) is np.ndarray else None

    def bind(self, obj):
        raise TypeError(f"{self.label}: an array is read through its name, not bound")


class NamedArrays:
    """The arrays of the step's own names, and the larger ones (values._MAX_ARRAY) held by an
    attribute of one of the user's objects, a list or a dict the step reaches (values.Snapshot:
    a trainer's `self.x_np` refilled in place or rebound each batch), an ArrayArgument in each
    place while the step is traced (module docstring). A smaller array away from the step's
    names is guarded by value instead (values.ArrayGuard: its Python may read the values). A
    name holding the same small array as another is left alone (guarded by value, as above);
    a larger array held at two places, which may part later, is read at neither: any use of
    it makes the trace describe this call only."""

    def __init__(self, fn, tracer, snap=None):
        self.held = []   # (ArrayPlace, array, tensor)
        self.shared = []   # (ArrayPlace, array): a large array held at two places
        self.taken = []    # the ArrayPlaces whose tensor the trace reads (read_by_name)
        own = _own_names(fn)
        found = own + ([] if snap is None else _kept_arrays(fn, snap))
        count = {}
        for *_, x in found:
            count[id(x)] = count.get(id(x), 0) + 1
        places = {}     # id(array) -> the attributes and items holding it, for ArrayGuards
        for container, key, label, x in found[len(own):]:
            if x.size <= _MAX_VALUED:
                places.setdefault(id(x), []).append((container, key, label))
        for i, (container, key, label, x) in enumerate(found):
            t = input_tensor(x)
            if t is None or count[id(x)] > 1 and x.size <= _MAX_ARRAY:
                continue
            place = ArrayPlace(container, key, label)
            at = places.get(id(x)) if i >= len(own) and count[id(x)] == len(places.get(
                id(x), ())) else None   # (not also a name of the step's: read as before)
            if count[id(x)] > 1:
                self.shared.append((place, x))
                NamePlace.bind(place, ArrayArgument(x, None, tracer, label, at))
                continue
            self.held.append((place, x, t))
            NamePlace.bind(place, ArrayArgument(x, t, tracer, label, at))
            if tracer.names is not None:
                tracer.names[id(t)] = label.split()[-1]

    def restore(self):
        """The places hold their arrays again (unless the step rebound them), and so does any
        other dict, list or cell the step put one of them in (`self.last = self.x_np`)."""
        args = []
        for place, x, *_ in self.held + self.shared:
            arg = place.raw()
            if type(arg) is ArrayArgument:
                NamePlace.bind(place, x)
                args.append(arg)
        for arg in args:
            if sys.getrefcount(arg) > 3:    # (args, the loop's name and the call's argument)
                put_back_array(arg)

    def value_guards(self, tracer, segment, loc):
        """ArrayGuards on the places of the arrays the step used as NumPy (ArrayArgument.used).
        One the step changed (wrote into, or rebound) is noted as a use of this call's array
        instead: only its Python makes the change again."""
        guards = []
        for copy, places in tracer.valued_arrays.values():
            for container, key, label in places:
                g = ArrayGuard(container, key, copy, label, segment, loc)
                if g.failed() is not None:
                    tracer.numpy_use = tracer.numpy_use or str(loc)
                    tracer.numpy_array = tracer.numpy_array or f"the NumPy array of {label}"
                    return []
                guards.append(g)
        return guards

    def read_by_name(self, slots):
        """The ("obj", tensor) slots of the arrays' tensors become ("name", ArrayPlace)."""
        places = {id(t): place for place, _, t in self.held}
        for spec in slots:
            kind, t = spec.slot
            if kind == "obj" and id(t) in places:
                spec.slot = ("name", places[id(t)])
                self.taken.append(places[id(t)])
        return set(places)


def put_back_array(arg):
    """The array itself wherever the step kept its ArrayArgument (one heap scan, only when
    something kept it). Loops, not comprehensions: a comprehension naming arg would hold it in a
    cell of this function, which the scan finds and rebinds to the array."""
    array = arg.array
    for ref in gc.get_referrers(arg):
        if type(ref) in (dict, list):
            for k, v in list(ref.items() if type(ref) is dict else enumerate(ref)):
                if v is arg:
                    ref[k] = array
        elif type(ref) is types.CellType:
            ref.cell_contents = array


def _own_names(fn):
    """(container, key, label, array) for the arrays bound to fn's globals and closure cells."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    glob = getattr(fn, "__globals__", {})
    found = [(glob, k, f"global {k}", glob[k]) for k in sorted(global_names(code))
             if type(glob.get(k)) is np.ndarray]
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        x = cell.cell_contents if _filled(cell) else None
        if type(x) is np.ndarray:
            found.append((cell, None, f"closure variable {name}", x))
    return found


def _kept_arrays(fn, snap):
    """(container, key, label, array) for the large arrays the snapshot met on an attribute of
    one of the user's objects (not stepjit's: its own bookkeeping), in a list or in a dict;
    not the step's own names (_own_names), nor a tuple's items (which cannot be swapped)."""
    out = []
    for c, k, x, label, _ in snap.large_arrays.values():
        if is_direct_name(c, k, fn) or type(c) not in (dict, list):
            continue
        owner = snap.attrs.get(id(c))
        if owner is not None and owner[3]:
            continue
        out.append((c, k, label, x))
    return out


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True
