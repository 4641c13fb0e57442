"""parameters_to_vector / vector_to_parameters: all parameters as one flat vector and back."""
from __future__ import annotations

from ...ops.shape import cat
from ...tensor import Tensor


def parameters_to_vector(parameters):
    params = list(parameters)
    if not params:
        raise RuntimeError("parameters_to_vector: expected a non-empty iterable of parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Slices of vec become the parameters' data, in order (no gradient flows back to vec)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise RuntimeError(f"vector_to_parameters: vec of shape {list(vec.shape)} does not hold "
                           f"the {total} elements of the parameters")
    pointer = 0
    for p in params:
        n = p.numel()
        p.data = vec[pointer:pointer + n].reshape(tuple(p.shape)).detach().to(p.dtype)
        pointer += n
