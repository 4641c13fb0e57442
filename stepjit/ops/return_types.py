"""torch.return_types: the named tuples that ops with several results return.

One type per op name, as PyTorch has (`torch.max(x, 1)` gives a `return_types.max`,
`torch.linalg.svd` a `return_types.linalg_svd`), each a tuple whose fields are also
attributes. They print as PyTorch's do, one field per line:

    stepjit.return_types.max(
    values=tensor([3., 4.]),
    indices=tensor([1, 0]))

The table below is the only list: ops take their type from it by name.
"""
from __future__ import annotations

from collections import namedtuple

_VALUES_INDICES = ("max", "min", "kthvalue", "median", "nanmedian", "mode", "sort", "topk",
                   "cummax", "cummin")
_TYPES = {
    "aminmax": ("min", "max"),
    "histogram": ("hist", "bin_edges"),
    "slogdet": ("sign", "logabsdet"),
    "linalg_slogdet": ("sign", "logabsdet"),
    "qr": ("Q", "R"),
    "linalg_qr": ("Q", "R"),
    "svd": ("U", "S", "V"),
    "linalg_svd": ("U", "S", "Vh"),
    "linalg_eigh": ("eigenvalues", "eigenvectors"),
    "linalg_eig": ("eigenvalues", "eigenvectors"),
    "linalg_cholesky_ex": ("L", "info"),
    "linalg_inv_ex": ("inverse", "info"),
    "linalg_solve_ex": ("result", "info"),
    "triangular_solve": ("solution", "cloned_coefficient"),
    "linalg_lstsq": ("solution", "residuals", "rank", "singular_values"),
    "linalg_lu_factor": ("LU", "pivots"),
    "linalg_lu_factor_ex": ("LU", "pivots", "info"),
    "linalg_lu": ("P", "L", "U"),
    "lu_unpack": ("P", "L", "U"),
    "frexp": ("mantissa", "exponent"),
}
_TYPES.update({name: ("values", "indices") for name in _VALUES_INDICES})


def _repr(self):
    body = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
    return f"stepjit.return_types.{type(self).__name__}(\n{body})"


def _make(name, fields):
    base = namedtuple(name, fields)
    # __module__ is this module, so pickle finds the class where it lives.
    return type(name, (base,), {"__slots__": (), "__repr__": _repr, "__str__": _repr,
                                "__module__": __name__, "__qualname__": name})


globals().update({name: _make(name, fields) for name, fields in _TYPES.items()})
__all__ = sorted(_TYPES)
