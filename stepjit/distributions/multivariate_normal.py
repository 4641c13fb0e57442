"""MultivariateNormal, parameterized by exactly one of covariance_matrix, precision_matrix
or scale_tril (PyTorch's rule), all reduced to the lower Cholesky factor L (cov = L L^T,
through the registry's cholesky primitive). rsample is loc + L eps, so gradients flow into
loc and the matrix; log_prob and entropy use L's triangular inverse and its diagonal's logs:
  log p(x) = -(k log 2 pi + |L^-1 (x - loc)|^2) / 2 - sum log diag L
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..linalg import cholesky
from ..ops.creation import randn
from ..tensor import Size
from . import constraints
from .distribution import Distribution

_SQUARE = constraints.Constraint(
    "PositiveDefinite()", lambda m: (m == m).all(-1).all(-1), event_dim=2)
_TRIL = constraints.Constraint("LowerCholesky()", lambda m: (
    (m.tril() == m).all(-1).all(-1) & (m.diagonal(0, -2, -1) > 0).all(-1)), event_dim=2)


class MultivariateNormal(Distribution):
    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": _SQUARE,
                       "precision_matrix": _SQUARE, "scale_tril": _TRIL}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        matrix = given[0]
        name = ("scale_tril" if scale_tril is not None else "covariance_matrix"
                if covariance_matrix is not None else "precision_matrix")
        if matrix.ndim < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch = tuple(np.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        k = loc.shape[-1]
        if tuple(matrix.shape[-2:]) != (k, k):
            raise ValueError(f"{name} of shape {tuple(matrix.shape)} does not match loc of "
                             f"shape {tuple(loc.shape)}: expected (..., {k}, {k})")
        self.__dict__[name] = matrix.expand(*(batch + (k, k)))   # (read by the properties)
        self.loc = loc.expand(*(batch + (k,)))
        super().__init__(Size(batch), Size((k,)), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = cholesky(precision_matrix.inverse())

    def expand(self, batch_shape, _instance=None):
        """loc and the given matrix broadcast; the Cholesky factor stays unbroadcast."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        shape = tuple(batch_shape)
        k = self._event_shape[0]
        new.loc = self.loc.expand(*shape, k)
        for name in ("covariance_matrix", "precision_matrix", "scale_tril"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(*shape, k, k)
        new._batch_shape = Size(shape)
        return new

    @property
    def scale_tril(self):
        if "scale_tril" in self.__dict__:
            return self.__dict__["scale_tril"]
        return self._unbroadcasted_scale_tril.expand(*self._matrix_shape())

    @property
    def covariance_matrix(self):
        if "covariance_matrix" in self.__dict__:
            return self.__dict__["covariance_matrix"]
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(*self._matrix_shape())

    @property
    def precision_matrix(self):
        if "precision_matrix" in self.__dict__:
            return self.__dict__["precision_matrix"]
        L_inv = self._unbroadcasted_scale_tril.inverse()
        return (L_inv.mT @ L_inv).expand(*self._matrix_shape())

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            *(tuple(self._batch_shape) + tuple(self._event_shape)))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = randn(*shape, dtype=self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def sample(self, sample_shape=Size()):
        with no_grad():
            return self.rsample(sample_shape)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(0, -2, -1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        m = _mahalanobis(self._unbroadcasted_scale_tril, diff)
        k = self._event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self):
        k = self._event_shape[0]
        h = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(*self._batch_shape) if len(self._batch_shape) else h


def _mahalanobis(L, x):
    """|L^-1 x|^2 over the last dim, L broadcast against x's batch."""
    y = (L.inverse() @ x.unsqueeze(-1)).squeeze(-1)
    return y.pow(2).sum(-1)


def kl_mvn_mvn(p, q):
    """PyTorch's KL(p || q) for two multivariate normals."""
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different "
                         "event shapes cannot be computed")
    n = p.event_shape[0]
    pL, qL = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = qL.diagonal(0, -2, -1).log().sum(-1) - pL.diagonal(0, -2, -1).log().sum(-1)
    term2 = (qL.inverse() @ pL).pow(2).sum((-2, -1))
    term3 = _mahalanobis(qL, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - n)

