"""The tracer: runs a step function once with trace-time tensors and records an SSA Graph.

Trace-time tensors are ordinary Tensors whose `_data` is an IR Value. Real
tensors the step meets (arguments, closure weights, module parameters,
optimizer state, .grad buffers) are *touched*: their data is swapped for a
graph input Value for the duration of the trace, and everything the step does
to them (in-place writes, `.data =`, new `.grad`) is recorded as a write to
apply after each call. Their original state is restored when the trace ends.

Autograd needs nothing special: dispatch records tape nodes on trace-time
tensors exactly as it does eagerly, and `loss.backward()` walks that tape
with the same engine, whose VJP rules then emit IR. Gradients are therefore
summed in the same order as eagerly.
"""
from __future__ import annotations

import operator
import os
import weakref

import numpy as np

from .. import dispatch
from ..autograd.engine import RUNNING
from ..cuda import is_device_array
from ..autograd.grad_mode import STATE as GRAD
from ..autograd import view_writes
from ..autograd.node import AccumulateGrad, PrimBackward
from ..errors import EagerOnly, StepjitError, op_error, user_location, user_source_line
from ..ir import primitives as P
from ..ir.graph import Graph, Loc, Node, Value
from ..ir.interpreter import evaluate
from ..ir.types import FLOAT, AVal, bfloat16, float64, int64
from ..tensor import Tensor
from .decisions import ConcreteRead, Decision, PerCallFloat, PerCallInt, PerCallNumber, TracedScalar, exact_key
from .hyperparams import GroupView, PyGuard, PyInput
from .state import AliasGroups, Touched
from .symbolic import SymbolicFloat, SymbolicInt, exact_numbers
from .windows import take_windows


_BF16 = "bfloat16 tensors are storage only, converted and moved eagerly, never compiled"


class TraceError(StepjitError):
    pass


# concrete()'s purposes that hand a tensor's values to Python, and how the warning names them
HANDED_OUT = {"numpy": ".numpy()", "list": ".tolist()", "repr": "printing or formatting a tensor",
              "nonzero": "nonzero(), or indexing with a boolean mask"}


class Untraceable(TraceError, EagerOnly):
    """The step does something a trace cannot follow but eager runs correctly: the compiled
    function runs the call (and later ones) eagerly, warning once with `why` (the user's line)."""


def _literal(a):
    if isinstance(a, SymbolicInt):
        return a.exact()   # an int that changes per call, used in a tensor op: this value only
    if isinstance(a, TracedScalar):
        a = a.value()   # a number from .item() used in a tensor op: its exact value is baked in
    if isinstance(a, (bool, np.bool_)):
        return bool(a)
    if isinstance(a, (int, np.integer)):
        return int(a)
    if isinstance(a, (float, np.floating)):
        return float(a)
    raise TraceError(f"expected a tensor or a Python number, got {type(a).__name__}")


_SCALAR_PRIMS = {"add": P.add, "sub": P.sub, "mul": P.mul, "truediv": P.div}


def _scalar_operand(tracer, x):
    """(graph Value or Python number, Python number) for an operand of scalar_arith; None when
    it is not one it computes (another object, a number of another trace)."""
    if isinstance(x, TracedScalar):
        return (x._value, x._py) if x._tracer is tracer else None
    if type(x) in (SymbolicFloat, SymbolicInt):
        t = x.traced(tracer)
        return (t if isinstance(t, Value) else tracer.value_of(t)), x._value
    if type(x) in (bool, int, float):
        return x, x
    return None


class Tracer:
    def __init__(self, name: str, names=None, once=False):
        self.graph = Graph(name=name)
        self.once = once            # the trace serves this call only (per-call retracing)
        self.promotions = 0         # gc collections of generations 1-2 before it (trace._escapes)
        self.names = names          # id(tensor) -> readable name, for lifted inputs
        self.touched = {}           # id(real tensor) -> Touched
        self.records = []           # Touched, in order of first touch
        self.arg_slots = {}         # id(arg tensor) -> flat position
        self.grad_owner = {}        # id(real grad tensor) -> (grad tensor, Touched of its owner)
        self.groups = AliasGroups()
        self.created = []           # weakrefs to trace-time tensors made here
        self.env = {}               # Value -> concrete array, for data-dependent reads
        self.reads_device = False   # whether a CUDA array entered env (dispatch.trace_device)
        self._evaluated, self._last_evaluated = 0, None   # graph.nodes evaluated into env
        self.decisions = []         # Decision, in the order Python took them
        self.exact_values = set()   # Values an exact decision has read (decide_exact)
        self.constants = []         # (Value, array)
        self.constant_segment = {}  # Value -> number of decisions taken before it was made
        self.py_inputs = []         # PyInput: Python numbers read each call (hyperparameters)
        self.py_guards = []         # PyGuard: Python values the trace assumed
        self.weak = set()           # Values that stand for Python numbers (_as_numbers)
        self.scalars = []           # weakrefs to the TracedScalars .item() returned
        self._scalar_values = {}    # (Value, dtype) -> its 0-dim Value in dtype (_scalar_as)
        self.handed_out = None      # where .numpy()/.tolist() handed values to Python
        self.numpy_use = None       # where the step used an ndarray argument as NumPy (arrays.py)
        self.numpy_array = None     # which array (an argument, or a name's: arrays.py)
        self.valued_arrays = {}     # id(array) -> (copy, places): arrays of the user's objects
                                    # the step used as NumPy, guarded by value (arrays.py)
        self.floats = False         # a SymbolicFloat stands in a place (symbolic.py)
        self.ints = False           # a SymbolicInt stands in a place
        self.tensor_windows = False  # a window's bounds are traced tensors (windows.py)
        self.active = True          # False once the trace is finished: late uses record nothing
        self.reusable = True        # False: the trace describes this call only
        self.backward_runs = 0      # backward()/autograd.grad() calls the step made
        self.accumulating_backwards = 0   # of them, those that accumulate into leaves
        self.history_reached = set()      # ids of outside-history tensors they reached
        self.why_not_reusable = None
        self._n = 0
        self._used_names = set()

    # -- values ---------------------------------------------------------------------
    def _name(self, hint=None):
        if hint is None:
            self._n += 1
            return str(self._n - 1)
        base = "".join(c if c.isalnum() or c == "_" else "_" for c in hint) or "t"
        if base[0].isdigit():
            base = "t" + base
        name, k = base, 1
        while name in self._used_names:
            name, k = f"{base}_{k}", k + 1
        self._used_names.add(name)
        return name

    def _new_tensor(self, value):
        return self.adopt(Tensor._make(value))

    def adopt(self, t):
        self.created.append(weakref.ref(t))
        return t

    def value_of(self, t):
        if t._view is not None:
            view_writes.fresh(t)   # a view of a root written since: replayed from the root
        d = t._data
        if isinstance(d, Value):
            return d
        return self.lift(t)

    def concrete_input(self, t):
        """The array a tensor the trace reads from outside holds (an argument, a lifted
        tensor, one not touched yet), or None for a value the graph computes."""
        d = t._data
        if not isinstance(d, Value):
            return d if isinstance(d, np.ndarray) else None
        if d in self.graph.inputs or any(v is d for v, _ in self.graph.lifted):
            return self.env.get(d)
        return None

    def bind_argument(self, t, position, name):
        rec = self.touch(t, slot=("arg", position), label=name)
        v = Value(self._name(name), t._data.shape, dispatch.dtype_of_array(t._data))
        self.graph.inputs.append(v)
        self._bind(rec, v)

    def lift(self, t):
        rec = self.touch(t)
        if rec.value is None:
            v = Value(self._name(rec.label), t._data.shape, dispatch.dtype_of_array(t._data))
            self.graph.lifted.append((v, "@" + rec.label))
            self._bind(rec, v)
        return t._data

    def _bind(self, rec, v):
        if v.dtype is bfloat16:
            raise Untraceable(f"a bfloat16 tensor ({rec.label}) reaches the step: {_BF16}")
        rec.value = v
        self.env[v] = rec.obj._data
        self._note_device(rec.obj._data)
        rec.obj._data = v

    def evaluate(self):
        """Give env the values of every node traced so far. Nodes are appended as the step
        runs, so only those after the last evaluated one are visited: a full pass per
        concrete read (each `.item()` of LBFGS's line search over an unrolled LSTM) made the
        trace quadratic. When the node list changed before that point, every node is visited
        (those already in env are skipped)."""
        nodes, k = self.graph.nodes, self._evaluated
        if k and (k > len(nodes) or nodes[k - 1] is not self._last_evaluated):
            k = 0
        evaluate(self.graph, self.env, start=k)
        self._evaluated = len(nodes)
        self._last_evaluated = nodes[-1] if nodes else None

    def _note_device(self, array):
        """env's arrays come from the tensors bound here and the constants made here (the
        interpreter's results are on their inputs' device): noting those answers "is any of
        env on the device" without a scan of env, which grows with the trace (each
        trace-time `.device` read scanned it: quadratic in a long unrolled trace)."""
        if not self.reads_device and type(array) is not np.ndarray:
            self.reads_device = is_device_array(array)

    def touch(self, t, slot=None, label=None):
        rec = self.touched.get(id(t))
        if rec is not None:
            return rec
        history = t._grad_fn is not None and GRAD.enabled and t._requires_grad
        if slot is None:
            entry = self.grad_owner.get(id(t))
            owner = entry[1] if entry is not None and entry[0] is t else None
            slot = ("grad", owner.index) if owner is not None else ("obj", t)
            if label is None:
                label = owner.label + ".grad" if owner is not None else self._label_for(t)
        rec = Touched(len(self.records), t, slot, self._unique_label(label))
        rec.segment = len(self.decisions)
        if history:
            # A tensor with autograd history from outside (an eager layer's output passed to a
            # compiled model) is a leaf of the trace's tape; the backward node made for the
            # results (aot.py) hands its gradient on into that history. A step that calls
            # backward itself cannot do that: check_history refuses it when the trace ends.
            rec.history = True
            t._grad_fn = None
        self.touched[id(t)] = rec
        self.records.append(rec)
        return rec

    def _unique_label(self, label):
        used = {r.label for r in self.records}
        base, k = label, 1
        while label in used:
            label, k = f"{base}#{k}", k + 1
        return label

    def _label_for(self, t):
        if self.names is not None:
            name = self.names.get(id(t))
            if name:
                return name
        return f"t{len(self.records)}"

    # -- the dispatch hooks ------------------------------------------------------------
    def apply(self, prim, args, attrs):
        vals = [self.value_of(a) if isinstance(a, Tensor) else self._operand(a) for a in args]
        if self.floats and attrs:
            attrs = {k: v.exact() if type(v) is SymbolicFloat else v for k, v in attrs.items()}
        if (self.ints or self.tensor_windows) and attrs:
            attrs = {k: exact_numbers(v) for k, v in attrs.items()}   # a key a view replays
        avals = [AVal(v.shape, v.dtype) if isinstance(v, Value) else dispatch.aval_of(v) for v in vals]
        try:
            out_aval = prim.shape_rule(*avals, **attrs)
        except StepjitError as e:
            raise op_error(e, prim.name) from None
        weak = self.weak and [isinstance(v, Value) and v in self.weak for v in vals]
        if weak and True in weak:
            vals, out_aval = self._as_numbers(prim, vals, avals, weak, attrs, out_aval)
        if out_aval.dtype is bfloat16:
            raise Untraceable(f"{prim.name} at {user_location()} makes a bfloat16 tensor: {_BF16}")
        if out_aval.shape is None:
            raise op_error(TraceError(
                "the result's shape depends on the tensor's values (boolean-mask indexing); inside "
                "a compiled step use where() or masked_fill() instead"), prim.name)
        out = self.emit(prim, vals, attrs, out_aval)
        if weak and all(w or not isinstance(v, Value) for v, w in zip(vals, weak)):
            self.weak.add(out._data)
        if prim.view and isinstance(args[0], Tensor):
            dispatch.view_of(out, args[0], prim, attrs)
        if GRAD.enabled and prim.vjp is not None and out_aval.dtype.category == FLOAT:
            dispatch.record(prim, args, attrs, out)
            if out._grad_fn is not None:
                out._grad_fn.loc = self.graph.nodes[-1].loc
        return out

    def _operand(self, a):
        if type(a) is SymbolicFloat:
            return a.traced(self)   # a float read on every call (symbolic.py)
        if type(a) is SymbolicInt:
            return self.value_of(a.traced(self))   # so is an int (`loss * scale`)
        if isinstance(a, PerCallNumber) and a._tracer is self:
            return a._value         # computed from such numbers alone
        return _literal(a)

    def _as_numbers(self, prim, vals, avals, weak, attrs, out_aval):
        """Values standing for Python numbers (hyperparameters lifted by read_input, and what is
        computed from them alone) promote as those numbers do eagerly: `grad * -lr` with a
        0-dim float32 grad stays float32, where two 0-dim tensors would give float64. The
        number is rounded to the result's dtype first, as eager converts it."""
        want = prim.shape_rule(*[AVal(a.shape, a.dtype, weak=True) if w else a
                                 for a, w in zip(avals, weak)], **attrs)
        if all(w or not isinstance(v, Value) for v, w in zip(vals, weak)):
            return vals, out_aval   # numbers only: its result stands for a number too
        if want.dtype is out_aval.dtype or want.dtype.category != FLOAT:
            return vals, out_aval
        vals = [self.emit(P.cast, [v], {"dtype": want.dtype}, AVal(v.shape, want.dtype))._data
                if w and v.dtype is not want.dtype else v for v, w in zip(vals, weak)]
        return vals, prim.shape_rule(*[AVal(v.shape, v.dtype) if isinstance(v, Value)
                                       else dispatch.aval_of(v) for v in vals], **attrs)

    def emit(self, prim, vals, attrs, out_aval):
        v = Value(self._name(), out_aval.shape, out_aval.dtype)
        self.graph.nodes.append(Node(prim, vals, attrs, v, self._loc()))
        return self._new_tensor(v)

    def _loc(self):
        """The user's line; for a primitive's gradient, the line of the forward op it differentiates
        (a custom Function's backward is user code, so its own lines are used)."""
        node = RUNNING.node
        if isinstance(node, PrimBackward) and node.loc is not None:
            fwd = node.loc
            return Loc(fwd.file, fwd.line, f"(backward) {fwd.text}")
        path, line, text = user_source_line(3)
        return Loc(path, line, text)

    def store(self, dst, result):
        if dst._view is not None:   # a view: its root takes the new value, as in shared memory
            view_writes.write(dst, result, "store")
            return
        self.value_of(dst)
        new = self.value_of(result)
        for t in self.groups.members(dst):
            t._data = new
        dst._version.value += 1

    def check_view_write(self, root, steps, op):
        """A view that `may_copy` (reshape) is one eagerly only where NumPy can make one (not
        of a transposed tensor): the interpreter's arrays have eager's layouts, so the chain is
        replayed on them, and a write through such a view that copies is refused (eagerly it
        would not reach the root; the trace has no layouts to follow that)."""
        if not any(prim.may_copy for prim, _ in steps):
            return
        v = self.value_of(root)
        self.evaluate()
        a = self.env[v]
        for prim, attrs in steps:
            b = prim.impl(a, **attrs)
            if not np.shares_memory(a, b) and a.size > 1:
                path, line, text = user_source_line(3)
                raise Untraceable(
                    f"{op} at {path.rsplit('/', 1)[-1]}:{line}: `{text}` writes through the result "
                    f"of reshape{list(b.shape)} of a non-contiguous tensor of shape "
                    f"{list(a.shape)}, a copy eagerly, which a trace cannot tell from a view")
            a = b

    def replace_data(self, t, value):
        new = self.value_of(value)
        if not isinstance(t._data, Value) or id(t) in self.touched:
            self.touch(t).replaced = True
        t._data = new
        self.groups.join(value, t)

    def alias(self, t):
        a = self._new_tensor(self.value_of(t))
        self.groups.join(t, a)
        return a

    def constant(self, array, random):
        v = Value(self._name("const"), array.shape, dispatch.dtype_of_array(array))
        self.graph.lifted.append((v, "@const." + v.name))
        self.constants.append((v, array))
        self.constant_segment[v] = len(self.decisions)
        self.env[v] = array
        self._note_device(array)
        if random:
            self.not_reusable("random numbers drawn inside the step are fixed when it is traced; "
                              "the step is traced again on every call")
        return self._new_tensor(v)

    def concrete(self, t, purpose="value"):
        v = self.value_of(t)
        self.evaluate()
        if purpose in HANDED_OUT:
            return self._handed_out(v, purpose)
        return ConcreteRead(self, v, np.array(self.env[v]))

    def _handed_out(self, v, purpose):
        """`t.numpy()` / `t.tolist()`: the values leave for Python code the tracer cannot
        watch (NumPy, a list kept or printed), so a replay could not redo what it does with
        them: the step's Python must run on every call. This call goes on with the values eager
        would have (read-only: PyTorch's array would share the tensor's memory, which a trace
        cannot), and the runtime traces the step on every call, warning once (trace._escapes).
        Not a trace for this call only, as a print's is: what runs the step's Python between
        such calls may also move Python state no snapshot sees (a DataLoader's sampler draws
        `randint(...).tolist()` once per 32 batches and advances its generator on the others:
        replaying those calls would repeat a batch).
        Not for a constant the step made from Python values (`batch_sizes = tensor(sizes)` in
        pack_padded_sequence, read back by the LSTM): a replay holds the same values, so the
        Python reading them does the same; the Python values it came from are guarded where
        they were read (a random constant makes the trace one-shot anyway)."""
        if self.handed_out is None and not self.once and v not in self.constant_segment:
            path, line, text = user_source_line(4)
            call = HANDED_OUT[purpose]
            self.handed_out = (f"the step hands a tensor's values to Python ({call} at "
                               f"{path.rsplit('/', 1)[-1]}:{line}: `{text}`)")
        a = np.array(self.env[v])
        a.flags.writeable = False
        return a

    # -- data-dependent decisions (see decisions.py) -------------------------------------
    def _decide(self, kind, value, seen, shown=None, op=None, other=None):
        path, line, text = user_source_line(3)
        self.decisions.append(Decision(kind, value, seen, len(self.graph.nodes),
                                       Loc(path, line, text), op, other, shown))

    def scalar(self, value, py):
        """`t.item()`: a TracedScalar, watched so that one kept after the step returns (a list
        of losses) makes the step's Python run on every call (trace._escapes)."""
        if self.once:
            return py   # a trace for this call only: nothing is replayed, nothing to watch
        path, line, text = user_source_line(3)
        s = TracedScalar(self, value, py, Loc(path, line, text))
        self.scalars.append(weakref.ref(s))
        return s

    def scalar_arith(self, op, a, b):
        """`a op b` (add, sub, mul, truediv) of Python numbers, one at least a TracedScalar: a
        TracedScalar the graph computes as Python does (a 0-dim float64 node, which rounds as
        a Python float does; int64 for ints: `correct += (pred == y).sum().item()`), so an
        accumulator `running_loss += loss.item()` costs no decision (tracer/results.py writes
        it back). None for an operand of another kind (the caller then reads the value)."""
        ops = [_scalar_operand(self, x) for x in (a, b)]
        if None in ops:
            return None
        (va, pa), (vb, pb) = ops
        if op == "truediv" and isinstance(vb, Value) and not pb == 0:
            b != 0     # noqa: B015 - a divisor read per call: eager raises where it is 0
        py = getattr(operator, op)(pa, pb)   # (raises as eager does: a division by zero)
        if type(py) not in (int, float):
            return None
        dtype = float64 if type(py) is float else int64
        # numbers read per call alone (no .item()): a PerCallNumber, which a tensor op reads
        # as a Python number (weak), as it reads a SymbolicFloat
        per_call = all(v in self.weak for v in (va, vb) if isinstance(v, Value))
        vals = [self._scalar_as(v, dtype) if isinstance(v, Value) else dtype.np.type(v).item()
                for v in (va, vb)]
        prim = _SCALAR_PRIMS[op]
        out = self.emit(prim, vals, {}, AVal((), dtype))._data
        loc = a._loc if isinstance(a, TracedScalar) else getattr(b, "_loc", None)
        loc = loc or Loc(*user_source_line())
        if per_call:
            self.weak.add(out)
            s = (PerCallFloat if dtype is float64 else PerCallInt)(self, out, py, loc)
        else:
            s = TracedScalar(self, out, py, loc)
        self.scalars.append(weakref.ref(s))
        return s

    def number_operand(self, x):
        """(graph Value, Python number) of a SymbolicFloat or SymbolicInt (a decision's other
        operand)."""
        return _scalar_operand(self, x)

    def _scalar_as(self, v, dtype):
        """A one-element Value as a 0-dim `dtype` Value (once per value and dtype)."""
        cache = self._scalar_values
        got = cache.get((v, dtype))
        if got is None:
            got = v
            if v.shape != ():
                got = self.emit(P.reshape, [got], {"shape": ()}, AVal((), v.dtype))._data
            if got.dtype is not dtype:
                got = self.emit(P.cast, [got], {"dtype": dtype}, AVal((), dtype))._data
            cache[(v, dtype)] = got
        return got

    def decide_exact(self, value, py):
        if value in self.exact_values:
            # read exactly before: the decision taken then guards this value already (the
            # backward of `loss * x.item()` reads the number its forward baked in)
            return
        self.exact_values.add(value)
        if value not in self.env:
            self.evaluate()     # a number computed from .item() values (scalar_arith)
        arr = np.asarray(self.env[value])
        self._decide("exact", value, exact_key(arr), shown=arr.tolist() if arr.size < 8 else py)

    def windows(self, t, key):
        """dispatch.windows while tracing: slices with per-call bounds (windows.py)."""
        return take_windows(self, t, key)

    def decide_truth(self, value, outcome):
        self._decide("truth", value, outcome)

    def decide_compare(self, value, op, other, outcome):
        self._decide("compare", value, outcome, op=op, other=other)

    # -- Python numbers from mutable containers (optimizer hyperparameters) --------------
    def read_group(self, optimizer, index, group):
        """What `optimizer.step()` reads for param_groups[index] (dispatch.read_group): a
        view that lifts the runtime hyperparameters and guards every other key it reads."""
        keys = getattr(optimizer, "runtime_hyperparams", ("lr",))
        label = f"{type(optimizer).__name__.lower()}.param_groups[{index}]"
        return GroupView(group, self, label, keys)

    def read_input(self, container, key, label, x=None, dtype=np.float64):
        """container[key] (a Python number; x, when a SymbolicFloat or SymbolicInt stands there
        for the trace) as a 0-dim graph input read on every call: float64 (a hyperparameter),
        int64 (an int a slice starts at, symbolic.py)."""
        for p in self.py_inputs:
            if p.container is container and p.key == key:
                return p.tensor
        if x is None:
            x = container[key]
        v = Value(self._name(label), (), dispatch.dtype_of_array(np.dtype(dtype).type(x)))
        self.graph.lifted.append((v, "@" + label))
        self.env[v] = np.array(x, dtype=dtype)
        t = self._new_tensor(v)
        self.weak.add(v)
        self.py_inputs.append(PyInput(v, container, key, label, type(x), len(self.decisions), t))
        return t

    def input_value(self, container, key):
        """The number container[key] held when the trace made it a per-call input, or None
        when it is not one."""
        for p in self.py_inputs:
            if p.container is container and p.key == key:
                return p.type(self.env[p.value])
        return None

    def number_tensor(self, x):
        """A SymbolicFloat or SymbolicInt as a 0-dim tensor of the trace (float64, int64)."""
        v = x.traced(self)
        return self._new_tensor(v) if isinstance(v, Value) else v

    def guard_value(self, container, key, value, label):
        """The trace assumed container[key] == value (a Python value it baked in)."""
        for g in self.py_guards:
            if g.container is container and g.key == key:
                return
        path, line, text = user_source_line(3)
        self.py_guards.append(PyGuard(container, key, value, label, len(self.decisions),
                                      Loc(path, line, text)))

    def observe_grad(self, t, write=False):
        if isinstance(t._data, Value) and id(t) not in self.touched:
            return  # a tensor made by the step: nothing outside to keep in sync
        rec = self.touch(t)
        if rec.grad_access is None:
            rec.grad_access = "write" if write else "read"
        g = t._grad
        if not write and g is not None and id(g) not in self.touched:
            self.grad_owner[id(g)] = (g, rec)

    def backward_started(self, accumulate, roots=()):
        """The step runs a backward of its own (backward(), or autograd.grad: accumulate
        False) from the tape nodes `roots`. One that accumulates would hand gradients on into
        the history of tensors made outside the step that it reaches: refused now, before the
        Python after it runs (check_history)."""
        self.backward_runs += 1
        if accumulate:
            self.accumulating_backwards += 1
            self.check_history(roots)

    def check_history(self, roots=None):
        """A step whose backward() accumulates would, eagerly, send the gradients of tensors
        with history from outside the step (`x = torch.tensor(X, requires_grad=True).float()`
        made before the loop, a PINN's inputs) on into that history, which a compiled program
        cannot do: the step runs eagerly (Untraceable), warning with the tensor and the line.
        Only tensors the backward reaches count: a target made outside with history and
        detached in the step (`(y_hat - y.detach())`, d2l's style transfer) is a plain input.
        (autograd.grad returns gradients and stops at its inputs: it reaches no history.)"""
        if not self.accumulating_backwards:
            return
        if roots is not None:   # (at the trace's end: what the backwards reached, even if the
            history = {id(rec.obj) for rec in self.records if rec.history}   # step caught it)
            self.history_reached |= _leaves_reached(roots, history) if history else set()
        for rec in self.records:
            if rec.history and id(rec.obj) in self.history_reached:
                t = rec.obj
                path, line, text = user_source_line(2)
                raise Untraceable(
                    f"its backward() at {os.path.basename(path)}:{line} (`{text}`) reaches "
                    f"{rec.label} (shape {list(t.shape)}, grad_fn={rec.orig_grad_fn.name()}), "
                    "a tensor with autograd history from outside the step, which eager "
                    "backward carries on into that history and a compiled program cannot; "
                    "pass it in as a leaf (`x.detach().requires_grad_()`) to compile the step")

    def not_reusable(self, why):
        self.reusable = False
        self.why_not_reusable = self.why_not_reusable or why


def _leaves_reached(roots, wanted):
    """The ids in `wanted` of the leaf tensors a backward from tape nodes `roots` reaches."""
    found, seen, stack = set(), set(), [n for n in roots if n is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if type(node) is AccumulateGrad and id(node.variable) in wanted:
            found.add(id(node.variable))
        stack.extend(child for child, _ in node.edges if child is not None)
    return found
