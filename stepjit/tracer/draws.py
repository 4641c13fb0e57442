"""NumPy's global random draws inside a compiled step: made again on every call, as eagerly.

PyTorch-GAN's scripts, and many like them, draw a step's noise on the host:

    z = Variable(Tensor(np.random.normal(0, 1, (imgs.shape[0], opt.latent_dim))))
    gen_labels = Variable(LongTensor(np.random.randint(0, opt.n_classes, batch_size)))

A replay that kept the numbers of the traced call would be silently wrong, and retracing the
step on every call (what any other nondeterministic call makes it do: values.py) costs more
than running it eagerly. So a draw from NumPy's global stream whose arguments are constants of
the trace (ints, floats, None, strings, dtypes and tuples or lists of them: a size read from a
guarded tensor shape, `opt.latent_dim` guarded where it lives) is an input of the trace, as an
array argument is (arrays.py): the step's Python receives an ArrayArgument over the array it
drew, which the factories (`Tensor(...)`, `FloatTensor`/`LongTensor`, `tensor`, `from_numpy`,
`as_tensor`) make the traced input, and the trace's slot for it is a DrawPlace, whose read
makes the same call again. The call's arguments being the trace's constants, each call draws
what eager draws there, from NumPy's stream as eager leaves it.

Order. A call's draws are made by its guard checks (runtime/guardcode.py), after every guard
of their segment has passed and in the order the step made them; a fast call makes them after
its re-verification test, so a call handed to the tree walk has drawn nothing. The tree walk
may still leave the tree after a segment drew (a later decision or segment's guards, a
re-verification due): it puts NumPy's state back as it found it (`rng_state`/`set_rng_state`)
before the step's Python runs, which then draws the same numbers itself.

Anything else the step does with the array (NumPy arithmetic, indexing, `to_categorical`,
printing, a branch on its values) reads the concrete array: the trace describes that call only
and the step runs its Python on every call (arrays.py), as before. So does a draw with other
arguments (an array, a traced number), a draw of a scalar (`np.random.rand()` in an
epsilon-greedy test), or one of a dtype stepjit does not compute in: values.Watch names it.
"""
from __future__ import annotations

import random
import sys
import weakref

import numpy as np

from ..tensor import Tensor
from .arrays import ArrayArgument, input_tensor, put_back_array
from .sources import NamePlace

_CONSTANT_TYPES = (bool, int, float, str, type(None), np.integer, np.floating, np.bool_, np.dtype)


def constant_arguments(args, kwargs):
    """(args, kwargs items) frozen (lists as tuples) when every argument is a constant of the
    trace; else None. A subclass of int (a SymbolicInt: a size that changes per call) is not."""
    try:
        return _frozen(args), tuple(sorted((k, _frozen(v)) for k, v in kwargs.items()))
    except _NotConstant:
        return None


class _NotConstant(Exception):
    pass


def _frozen(x):
    if type(x) is list or isinstance(x, tuple):    # (a tensor's Size: a tuple of its ints)
        return tuple(_frozen(v) for v in x)
    if type(x) in _CONSTANT_TYPES or isinstance(x, (np.generic, np.dtype)) or \
            (isinstance(x, type) and issubclass(x, np.generic)):
        return x
    raise _NotConstant


class DrawPlace(NamePlace):
    """A trace input that a call of NumPy's global `fn(*args, **kwargs)` gives: read() draws.
    container: the function; key: its frozen arguments. `held`: the tensor the traced call
    drew, which that call's own run reads (sources.with_traced_names binds it). One object per
    function, arguments and rank among a trace's draws alike (`place`): a retrace that grafts
    onto the tree's segments finds its draws in them."""
    __slots__ = ("held", "__weakref__")
    draws = True

    def __init__(self, fn, frozen, label):
        super().__init__(fn, frozen, label)
        self.held = None

    def read(self):
        held = self.held
        if held is not None:
            return held
        args, kwargs = self.key
        return Tensor._make(self.container(*args, **dict(kwargs)))

    def raw(self):
        return self.held

    def bind(self, obj):
        self.held = obj

    def describe(self):
        args, kwargs = self.key
        shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs]
        return f"{self.label.replace('()', '')}({', '.join(shown)})"


class Draws:
    """The draws a trace took as inputs, in order: each a DrawPlace and the tensor lifted for
    it. Watch (values.py) makes each draw and hands it here; `state` gives NumPy's global
    state, compared between draws and when the step returns (a draw around the wrappers,
    `from numpy.random import normal` bound before, moves it further: then the trace
    describes that call only, as before)."""

    def __init__(self, tracer):
        self.tracer = tracer
        self.state = None     # a function giving NumPy's global state (begin)
        self.taken = []       # (DrawPlace, tensor)
        self.arrays = []      # (ArrayArgument, where it was drawn): what the step received
        self.broken = False   # the state moved other than by a draw taken
        self.last = None      # the state when the step began, then after each draw taken

    def begin(self, state, start):
        """The step is about to run (Watch's entry): NumPy's state is `start`, `state()` now."""
        self.state, self.last = state, start

    @staticmethod
    def frozen(args, kwargs):
        return constant_arguments(args, kwargs)

    def before(self):
        """A draw with constant arguments is about to be made: the state must be the one
        the last draw left (the step's first draw: the one it began with). A draw around the
        wrappers or `np.random.seed(k)` in the step moved it: no replay would."""
        if self.state() != self.last:
            self.broken = True

    def take(self, fn, what, frozen, out, loc):
        """The ArrayArgument standing for `out`, what fn drew with the frozen arguments, as an
        input of the trace; None when it cannot be one (not an array of a dtype stepjit
        computes in): the caller notes the call."""
        t = input_tensor(out)
        if t is None:
            self.broken = True     # (its draw moved the state: compared no more)
            return None
        self.last = self.state()
        self.tracer.touch(t, label=what.replace("()", ""))
        self.tracer.lift(t)
        rank = sum(p.container is fn and p.key == frozen for p, _ in self.taken)
        self.taken.append((place(fn, frozen, rank, what), t))
        arg = ArrayArgument(out, t, self.tracer, f"{what} at {loc}")
        self.arrays.append((arg, str(loc)))
        return arg

    def put_back(self):
        """A drawn array the step keeps after it returns (in a list, a global, an attribute)
        is the array again there, and the trace describes that call only: a replay would
        leave the traced call's array. Called once the step returned (its frames are gone)."""
        for arg, loc in self.arrays:
            if sys.getrefcount(arg) > 3:    # (self.arrays, the loop's name, the argument)
                put_back_array(arg)
                if self.tracer.numpy_use is None:
                    self.tracer.numpy_use = loc
                    self.tracer.numpy_array = f"the NumPy array of {arg.label}"
        self.arrays = []

    def moved_around(self) -> bool:
        """Whether NumPy's state moved other than by the draws taken (the step returned)."""
        return self.broken or self.state() != self.last

    def read_by_place(self, slots):
        """The ("obj", tensor) slots of the draws become ("name", DrawPlace) slots; returns
        (DrawPlace, tensor) for each: what the traced call's own run reads."""
        places = {id(t): place for place, t in self.taken}
        for spec in slots:
            kind, t = spec.slot
            if kind == "obj" and id(t) in places:
                spec.slot = ("name", places[id(t)])
        return list(self.taken)


_PLACES = weakref.WeakValueDictionary()   # (fn, frozen arguments, rank) -> DrawPlace


def place(fn, frozen, rank, what):
    """The DrawPlace of the rank-th draw of fn(*frozen) in a trace (DrawPlace)."""
    key = (fn, frozen, rank)
    found = _PLACES.get(key)
    if found is None:
        found = _PLACES[key] = DrawPlace(fn, frozen, what)
    return found


def host_states():
    """Python's and NumPy's global random states: put back where a trace stopped part way
    (the call then runs eagerly, and its Python draws those numbers again)."""
    return random.getstate(), np.random.get_state(legacy=False)


def set_host_states(states):
    random.setstate(states[0])
    np.random.set_state(states[1])


def rng_state():
    """NumPy's global random state, put back where a call that drew leaves the trace tree."""
    return np.random.get_state(legacy=False)


def set_rng_state(state):
    np.random.set_state(state)
