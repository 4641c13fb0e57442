"""Sharing strategies, PyTorch's names. Both share a tensor through a named file in shared
memory (stepjit/shared_memory.py: PyTorch's "file_system"); the choice is kept and reported."""
import sys

_STRATEGIES = {"file_descriptor", "file_system"} if sys.platform != "darwin" else {"file_system"}
_STATE = {"strategy": "file_descriptor" if sys.platform != "darwin" else "file_system"}


def get_all_sharing_strategies():
    return set(_STRATEGIES)


def get_sharing_strategy():
    return _STATE["strategy"]


def set_sharing_strategy(new_strategy):
    if new_strategy not in _STRATEGIES:
        raise AssertionError(f"sharing strategy {new_strategy!r} is not one of "
                             f"{sorted(_STRATEGIES)}")
    _STATE["strategy"] = new_strategy
