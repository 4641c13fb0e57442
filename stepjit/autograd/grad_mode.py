"""Grad mode: whether ops record autograd history. Context managers that are also decorators."""
from __future__ import annotations

import functools


class _State:
    __slots__ = ("enabled",)

    def __init__(self):
        self.enabled = True


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
