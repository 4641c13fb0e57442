"""In-place writes through views of intermediates, checked against PyTorch: one table, recorded
by tests/fixtures/record_views.py (float64; outputs and input gradients).

PyTorch rebases a written view's base onto the write (CopySlices), so gradients flow through
the write to the base's earlier history and to the written value; a view made before its base
is written is regenerated from the base when next used.
"""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(17)


def r(*shape):
    return RNG.standard_normal(shape)


X, W = r(4, 3), r(3, 5)


def _h(x, w):
    return x @ w


def slice_mul(T, x, w):
    h = _h(x, w)
    h[1:3].mul_(0.5)
    return h


def transpose_row_imul(T, x, w):
    h = _h(x, w)
    h.t()[0] *= 2.0
    return h


def setitem_column(T, x, w, y):
    h = _h(x, w)
    h[:, 0] = y
    return h


def base_written_after_view(T, x, w):
    h = _h(x, w)
    v = h[1:3]
    h.mul_(2.0)
    return v, h


def view_used_after_its_write(T, x, w):
    h = _h(x, w)
    v = h[1:3]
    v.mul_(0.5)
    return v.exp(), h.sum()


def reshape_slice_copy(T, x, w, y):
    h = _h(x, w)
    h.reshape(-1)[2:6].copy_(y)
    return h


def column_zero_and_fill(T, x, w):
    h = _h(x, w)
    h[:, 1].zero_()
    h[0].fill_(3.0)
    return h.sin()


def unary_inplace_on_slice(T, x, w):
    h = _h(x, w)
    h[:, 0].mul_(3.0)
    h[:, 2:4].sigmoid_()   # (last: PyTorch refuses a later write to h, whose version it saves)
    return h * h


def overlapping_writes(T, x, w, y):
    h = _h(x, w)
    h[0:2].mul_(2.0)
    h[1:3] += y
    h.t()[4].sub_(h.t()[3])
    return h


def clamp_through_view(T, x, w):
    h = _h(x, w)
    h[:, 1:4].clamp_(min=-0.5, max=0.5)
    return h


def write_grad_value_into_plain_buffer(T, x, w):
    z = T.zeros(4, 5, dtype=x.dtype)
    z.t()[1] = _h(x, w)[:, 2]
    z[3].copy_(w[0, 0] * T.ones(5, dtype=x.dtype))
    return z * 2.0


def view_of_view_of_transpose(T, x, w):
    h = _h(x, w)
    ht = h.t()
    ht[1:3][:, 0].mul_(-3.0)
    return h, ht


CASES = [
    Case("slice_mul", slice_mul, X, W),
    Case("transpose_row_imul", transpose_row_imul, X, W),
    Case("setitem_column", setitem_column, X, W, r(4)),
    Case("base_written_after_view", base_written_after_view, X, W),
    Case("view_used_after_its_write", view_used_after_its_write, X, W),
    Case("reshape_slice_copy", reshape_slice_copy, X, W, r(4)),
    Case("column_zero_and_fill", column_zero_and_fill, X, W),
    Case("unary_inplace_on_slice", unary_inplace_on_slice, X, W),
    Case("overlapping_writes", overlapping_writes, X, W, r(2, 5)),
    Case("clamp_through_view", clamp_through_view, X, W),
    Case("write_grad_value_into_plain_buffer", write_grad_value_into_plain_buffer, X, W),
    Case("view_of_view_of_transpose", view_of_view_of_transpose, X, W),
]
