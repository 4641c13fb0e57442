"""`torch.utils.checkpoint`: activation checkpointing, which trades compute for memory by
recomputing a segment's forward during backward. stepjit runs the segment once and keeps its
activations: the values and gradients are the ones PyTorch's checkpoint gives (it restores the
random state for the recomputation, so dropout inside a segment draws the same masks), only
the memory saving is not made."""
from __future__ import annotations


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """functions (a Sequential or a list of modules) applied in order to input."""
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    for f in functions:
        input = f(input)
    return input
