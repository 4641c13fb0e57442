"""Grad mode: whether ops record autograd history. Context managers that are also decorators."""
from __future__ import annotations

import functools


class _State:
    __slots__ = ("enabled", "create_graph")

    def __init__(self):
        self.enabled = True
        # True while a backward with create_graph=True runs: each node computes its input
        # gradients with taped ops on saved values that keep their history (autograd/node.py)
        self.create_graph = False


STATE = _State()


def is_grad_enabled() -> bool:
    return STATE.enabled


class _GradModeContext:
    __slots__ = ("_prev",)   # (no instance dict: a training step enters no_grad every call)
    _target = True

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = self._target

    def __exit__(self, exc_type, exc, tb):
        STATE.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)
        return wrapper

    def _args(self):
        return ()


class no_grad(_GradModeContext):
    __slots__ = ()
    _target = False


class enable_grad(_GradModeContext):
    __slots__ = ()
    _target = True


class set_grad_enabled(_GradModeContext):
    """Like PyTorch's: takes effect at construction, so it also works as a plain call."""
    __slots__ = ("_target",)

    def __init__(self, mode: bool):
        self._target = bool(mode)
        self._prev = STATE.enabled
        STATE.enabled = self._target

    def __enter__(self):
        pass

    def _args(self):
        return (self._target,)

    def __call__(self, fn):
        STATE.enabled = self._prev
        return super().__call__(fn)


class _InferenceState:
    __slots__ = ("enabled",)

    def __init__(self):
        self.enabled = False


INFERENCE = _InferenceState()


def is_inference_mode_enabled() -> bool:
    return INFERENCE.enabled


class inference_mode:
    """`with inference_mode():`, `@inference_mode()` or bare `@inference_mode`: no autograd
    recording, as under no_grad. (PyTorch also marks the tensors made inside as inference
    tensors that autograd later refuses; stepjit's are ordinary tensors.)
    `inference_mode(False)` changes nothing."""
    __slots__ = ("mode", "_prev")

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):   # bare @inference_mode
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self._prev = (STATE.enabled, INFERENCE.enabled)
        if self.mode:
            STATE.enabled = False
            INFERENCE.enabled = True

    def __exit__(self, exc_type, exc, tb):
        STATE.enabled, INFERENCE.enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return inference_mode(self.mode)
