"""Recurrent cells as functions of tensors (PyTorch's gate order and formulas).

rnn_cell:  h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)
lstm_cell: i, f, g, o = chunks of x W_ih^T + b_ih + h W_hh^T + b_hh
           c' = sigmoid(f) c + sigmoid(i) tanh(g);  h' = sigmoid(o) tanh(c')
gru_cell:  r, z, n_x = chunks of x W_ih^T + b_ih;  r_h, z_h, n_h = chunks of h W_hh^T + b_hh
           r = sigmoid(r + r_h); z = sigmoid(z + z_h); n = tanh(n_x + r n_h)
           h' = (1 - z) n + z h
"""
from __future__ import annotations


def _linear(x, w, b):
    out = x.matmul(w.t())
    return out if b is None else out + b


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    pre = _linear(x, w_ih, b_ih) + _linear(h, w_hh, b_hh)
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def lstm_cell(x, state, w_ih, w_hh, b_ih=None, b_hh=None):
    h, c = state
    gates = _linear(x, w_ih, b_ih) + _linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    rx, zx, nx = _linear(x, w_ih, b_ih).chunk(3, -1)
    rh, zh, nh = _linear(h, w_hh, b_hh).chunk(3, -1)
    r = (rx + rh).sigmoid()
    z = (zx + zh).sigmoid()
    n = (nx + r * nh).tanh()
    return (1 - z) * n + z * h
