"""Functions PyTorch removed in 1.9 but still names (torch.solve, lstsq, eig, symeig,
matrix_rank and their Tensor methods): calling one raises PyTorch's RuntimeError, which
says what replaces it, so an old program stops where it would under PyTorch, with the same
advice."""
from __future__ import annotations

_REMOVED = "This function was deprecated since version 1.9 and is now removed. "
_ADVICE = {
    "solve": "`torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` "
             "has its arguments reversed and does not return the LU factorization. "
             "X = torch.solve(B, A).solution should be replaced with "
             "X = torch.linalg.solve(A, B)",
    "lstsq": "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`. `torch.linalg.lstsq` "
             "has reversed arguments and does not return the QR decomposition in the returned "
             "tuple. X = torch.lstsq(B, A).solution[:A.size(1)] should be replaced with "
             "X = torch.linalg.lstsq(A, B).solution",
    "eig": "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather "
           "than real tensors mimicking complex tensors. L, _ = torch.eig(A) should be replaced "
           "with L_complex = torch.linalg.eigvals(A)",
    "symeig": "The default behavior has changed from using the upper triangular portion of the "
              "matrix by default to using the lower triangular portion. "
              "L, _ = torch.symeig(A, upper=upper) should be replaced with "
              "L = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')",
    "matrix_rank": "Please use the `torch.linalg.matrix_rank` function instead. The parameter "
                   "'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'.",
}


def _removed(name):
    def removed(*args, **kwargs):
        raise RuntimeError(_REMOVED + _ADVICE[name])
    removed.__name__ = removed.__qualname__ = name
    return removed


FUNCTIONS = {name: _removed(name) for name in _ADVICE}
METHODS = {name: FUNCTIONS[name] for name in ("solve", "lstsq", "eig", "symeig")}
