"""torch.linalg's multi_dot, solve_triangular, vander, cond, inv_ex, solve_ex, diagonal,
tensorinv and tensorsolve against PyTorch: values, dtypes and gradients, one table recorded
by tests/fixtures/record_linalg_extras.py."""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(4242)
A = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
AB = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)
B = RNG.standard_normal((3, 2))
C = RNG.standard_normal((2, 4))
V = RNG.standard_normal(3)
W = RNG.standard_normal(4)
X = np.array([[0.0, 1.5, -2.0], [0.5, 0.0, 3.0]])
T4 = RNG.standard_normal((4, 6, 8, 3)) + np.eye(24).reshape(4, 6, 8, 3) * 4
TS = RNG.standard_normal((2, 3, 6)) + np.eye(6).reshape(2, 3, 6) * 4
TB = RNG.standard_normal((2, 3))


def _multi_dot(T, a, b, c, v, w):
    L = T.linalg
    return (L.multi_dot([a, b, c]), L.multi_dot([v, a, b]), L.multi_dot([a, b, c, w]),
            L.multi_dot([v, a, v]), L.multi_dot([b.t(), a]))


def _triangular(T, a, ab, b):
    L = T.linalg
    return (L.solve_triangular(a, b, upper=True), L.solve_triangular(a, b, upper=False),
            L.solve_triangular(ab, b, upper=True, unitriangular=True),
            L.solve_triangular(a, b.t(), upper=False, left=False),
            L.solve_triangular(ab, b.t().unsqueeze(0).expand(2, 2, 3), upper=True, left=False,
                               unitriangular=True))


def _vander(T, x, v):
    L = T.linalg
    return L.vander(x), L.vander(v, N=5), L.vander(v, N=2)


def _cond(T, a, ab):
    L = T.linalg
    return L.cond(a), L.cond(ab), L.cond(a, -2), L.cond(ab, "nuc")


def cond_norm_orders(T, a, ab):
    """(PyTorch 2.13 cannot backpropagate through these: its inverse's output is modified in
    place; values are recorded, gradients checked by finite differences.)"""
    L = T.linalg
    return (L.cond(a, "fro"), L.cond(a, 1), L.cond(ab, float("inf")), L.cond(a, -1),
            L.cond(ab, float("-inf")))


def _checked(T, a, ab, b):
    L = T.linalg
    singular = T.stack([a, T.zeros(3, 3, dtype=T.float64)])
    inv, info = L.inv_ex(ab)
    x, info2 = L.solve_ex(ab, b)
    y, info3 = L.solve_ex(a, b.t(), left=False, check_errors=True)
    z, info4 = L.inv_ex(a, check_errors=True)
    return (inv, info, x, info2, y, info3, z, info4, L.inv_ex(singular).info,
            L.solve_ex(singular, b).info, L.inv_ex(singular).inverse[0])


def _tensor_forms(T, t4, ts, tb, ab):
    L = T.linalg
    return (L.tensorinv(t4, 2), L.tensorinv(t4.reshape(24, 4, 6), 1), L.tensorsolve(ts, tb),
            L.tensorsolve(ts.permute(2, 0, 1), tb, dims=(0,)), L.diagonal(ab),
            L.diagonal(ab, offset=1), L.diagonal(ab, dim1=0, dim2=2))


CASES = [
    Case("multi_dot", _multi_dot, A, B, C, V, W),
    Case("solve_triangular", _triangular, A, AB, B),
    Case("vander", _vander, X, V),
    Case("cond", _cond, A, AB),
    Case("cond_norm_orders", cond_norm_orders, A, AB, grad=()),
    Case("inv_ex_solve_ex", _checked, A, AB, B),
    Case("tensorinv_tensorsolve_diagonal", _tensor_forms, T4, TS, TB, AB),
]
