"""torch.autograd.graph: saved-tensor hooks and the node type of the tape.

`saved_tensors_hooks(pack, unpack)` decides what the tape keeps of each tensor an op saves for
backward (node.py SavedTensor): the pack hook's result, any Python object, from which the unpack
hook gives back a tensor of the same value when backward (or `grad_fn._saved_*`, or
`ctx.saved_tensors`) reads it. The innermost active pair applies. `save_on_cpu` is the pair
that parks saved tensors on the host.

A compiled step keeps no tape: its backward reads saved values inside the program, where no
Python hook can run. A trace that meets an active pair stops, and the step runs eagerly, with
a warning naming the line (errors.EagerOnly), rather than silently skipping the hooks.
"""
from __future__ import annotations

from ..errors import EagerOnly, user_source_line
from .node import SAVED_HOOKS, Node  # noqa: F401  (Node: torch.autograd.graph.Node)

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "Node"]


class saved_tensors_hooks:
    """Context manager: tensors saved for backward inside it are kept as `pack_hook(tensor)`
    and read back as `unpack_hook(packed)`."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _DISABLED:
            raise RuntimeError(_DISABLED[-1])
        SAVED_HOOKS.append(self._pack)
        return self

    def __exit__(self, *exc):
        SAVED_HOOKS.remove(self._pack)
        return False

    def _pack(self, saved, t):
        from ..dispatch import MODE   # (dispatch imports this package)
        if MODE.tracer is not None:
            raise EagerOnly(f"saved-tensor hooks are active at {_where()}: a compiled step "
                            "has no tape on which Python pack/unpack hooks could run")
        packed = self.pack_hook(t)
        saved.hooked = (packed, self.unpack_hook, (tuple(t.shape), t.dtype),
                        saved.tensor is not None)
        saved.data = None      # only the packed object is kept, as in PyTorch
        saved.tensor = None


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the host and moved back to their device for backward.
    `pin_memory` is accepted for PyTorch's signature: host arrays need no pinning here."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        super().__init__(_to_host, _to_device)


def _to_host(t):
    return (t.device, t.detach().cpu())


def _to_device(packed):
    device, t = packed
    return t.to(device)


class disable_saved_tensors_hooks:
    """Context manager: entering a saved_tensors_hooks inside it raises RuntimeError with
    `error_message` (libraries that rely on saving tensors unchanged use it)."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        _DISABLED.append(self.error_message)
        return self

    def __exit__(self, *exc):
        _DISABLED.pop()
        return False


_DISABLED: list = []


def _where():
    path, line, text = user_source_line(4)
    return f"{path.rsplit('/', 1)[-1]}:{line}: `{text}`"
