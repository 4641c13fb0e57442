"""LowRankMultivariateNormal(loc, cov_factor, cov_diag): covariance W W^T + diag(D) with W of
shape (k, rank), never formed for densities. With the capacitance matrix
C = I + W^T D^-1 W (rank x rank) and its Cholesky factor L (Woodbury and the matrix
determinant lemma):
  log det cov = 2 sum log diag L + sum log D
  x^T cov^-1 x = sum x^2 / D - |L^-1 W^T D^-1 x|^2
rsample is loc + W eps_W + sqrt(D) eps_D, so gradients reach all three parameters.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..linalg import cholesky
from ..ops.creation import eye, randn
from ..tensor import Size
from . import constraints
from .distribution import Distribution


class LowRankMultivariateNormal(Distribution):
    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.Constraint(
                           "IndependentConstraint(Real(), 2)", lambda m: (m == m).all(-1).all(-1),
                           event_dim=2),
                       "cov_diag": constraints.Constraint(
                           "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)",
                           lambda d: (d > 0).all(-1), event_dim=1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        k = loc.shape[-1]
        if cov_factor.ndim < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != (k,):
            raise ValueError(f"cov_factor must be a batch of matrices with shape {k} x m")
        if tuple(cov_diag.shape[-1:]) != (k,):
            raise ValueError(f"cov_diag must be a batch of vectors with shape {(k,)}")
        rank = cov_factor.shape[-1]
        batch = tuple(np.broadcast_shapes(tuple(loc.shape[:-1]), tuple(cov_factor.shape[:-2]),
                                          tuple(cov_diag.shape[:-1])))
        self.loc = loc.expand(*batch, k)
        self.cov_factor = cov_factor.expand(*batch, k, rank)
        self.cov_diag = cov_diag.expand(*batch, k)
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)
        super().__init__(Size(batch), Size((k,)), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        shape = tuple(batch_shape)
        k, rank = self._event_shape[0], self.cov_factor.shape[-1]
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.loc = self.loc.expand(*shape, k)
        new.cov_factor = self.cov_factor.expand(*shape, k, rank)
        new.cov_diag = self.cov_diag.expand(*shape, k)
        new._batch_shape = Size(shape)
        return new

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return (w.pow(2).sum(-1) + d).expand(*self._batch_shape, *self._event_shape)

    @property
    def covariance_matrix(self):
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        cov = w @ w.mT + d.diag_embed()
        return cov.expand(*self._batch_shape, *self._event_shape, *self._event_shape)

    @property
    def scale_tril(self):
        return cholesky(self.covariance_matrix)

    @property
    def precision_matrix(self):
        """cov^-1 by Woodbury: D^-1 - D^-1 W C^-1 W^T D^-1."""
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        a = (self._capacitance_tril.inverse() @ (w / d.unsqueeze(-1)).mT)   # L^-1 W^T D^-1
        prec = (1 / d).diag_embed() - a.mT @ a
        return prec.expand(*self._batch_shape, *self._event_shape, *self._event_shape)

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        rank = self.cov_factor.shape[-1]
        eps_w = randn(*shape[:-1], rank, dtype=self.loc.dtype)
        eps_d = randn(*shape, dtype=self.loc.dtype)
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return self.loc + (w @ eps_w.unsqueeze(-1)).squeeze(-1) + d.sqrt() * eps_d

    def sample(self, sample_shape=Size()):
        with no_grad():
            return self.rsample(sample_shape)

    def _log_det(self):
        return (2 * self._capacitance_tril.diagonal(0, -2, -1).log().sum(-1)
                + self._unbroadcasted_cov_diag.log().sum(-1))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        x = value - self.loc
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        wt_dinv_x = ((w / d.unsqueeze(-1)).mT @ x.unsqueeze(-1))              # (..., rank, 1)
        y = (self._capacitance_tril.inverse() @ wt_dinv_x).squeeze(-1)
        maha = (x.pow(2) / d).sum(-1) - y.pow(2).sum(-1)
        k = self._event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + self._log_det() + maha)

    def entropy(self):
        k = self._event_shape[0]
        h = 0.5 * (k * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return h.expand(*self._batch_shape) if len(self._batch_shape) else h


def _capacitance_tril(w, d):
    """Cholesky factor of I + W^T D^-1 W."""
    rank = w.shape[-1]
    c = (w.mT / d.unsqueeze(-2)) @ w
    return cholesky(c + eye(rank, dtype=w.dtype))
