"""RNN, LSTM, GRU and their Cell forms, with PyTorch's parameter names, shapes and init.

A layer runs its cell over time in a Python loop (the tracer unrolls it into one
program); several layers feed each other, a bidirectional layer runs a second cell
backwards in time and concatenates, and dropout applies between layers in training.
Inputs are (L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in), or a
PackedSequence (nn.utils.rnn): then the padded batch runs with each sequence's state held
after its last step, and the output is packed again in the input's layout.
"""
from __future__ import annotations

import math

from ...ops.creation import empty, tensor, zeros
from ...ops.elementwise import where
from ...ops.shape import cat, stack
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, pad_packed_sequence
from .module import Module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNCellBase(Module):
    """The weights RNNCell, LSTMCell and GRUCell share: num_chunks gates of hidden_size rows."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        gates = num_chunks
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(empty((gates * hidden_size, input_size), dtype=dtype,
                                         device=device))
        self.weight_hh = Parameter(empty((gates * hidden_size, hidden_size), dtype=dtype,
                                         device=device))
        if bias:
            self.bias_ih = Parameter(empty(gates * hidden_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(gates * hidden_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _batched(self, input, hx, n_states):
        if input.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got "
                             f"{input.ndim}D instead")
        unbatched = input.ndim == 1
        if unbatched:
            input = input.unsqueeze(0)
            if hx is not None:
                hx = tuple(h.unsqueeze(0) for h in hx) if n_states == 2 else hx.unsqueeze(0)
        if hx is None:
            z = zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
            hx = (z, z) if n_states == 2 else z
        return input, hx, unbatched

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        x, h, unbatched = self._batched(input, hx, 1)
        out = F.rnn_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                         self.nonlinearity)
        return out.squeeze(0) if unbatched else out


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, state, unbatched = self._batched(input, hx, 2)
        h, c = F.lstm_cell(x, state, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, h, unbatched = self._batched(input, hx, 1)
        out = F.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out.squeeze(0) if unbatched else out


class RNNBase(Module):
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
                 dtype=None):
        super().__init__()
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1]")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        gates = _GATES[mode]
        dirs = 2 if bidirectional else 1
        out_size = proj_size or hidden_size      # h's size: the projection's, when there is one
        for layer in range(num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                in_size = input_size if layer == 0 else out_size * dirs
                setattr(self, "weight_ih" + sfx, Parameter(
                    empty((gates * hidden_size, in_size), dtype=dtype, device=device)))
                setattr(self, "weight_hh" + sfx, Parameter(
                    empty((gates * hidden_size, out_size), dtype=dtype, device=device)))
                if bias:
                    setattr(self, "bias_ih" + sfx, Parameter(
                        empty(gates * hidden_size, dtype=dtype, device=device)))
                    setattr(self, "bias_hh" + sfx, Parameter(
                        empty(gates * hidden_size, dtype=dtype, device=device)))
                if proj_size:
                    setattr(self, "weight_hr" + sfx, Parameter(
                        empty((proj_size, hidden_size), dtype=dtype, device=device)))
        self.reset_parameters()

    def flatten_parameters(self):
        """cuDNN packs the weights into one buffer; stepjit's cells read them where they are."""

    @property
    def _flat_weights_names(self):
        """The weights' names in PyTorch's order (layer by layer, direction by direction)."""
        return [n for n in self._parameters if n.startswith(("weight_", "bias_"))]

    @property
    def _flat_weights(self):
        return [self._parameters[n] for n in self._flat_weights_names]

    @property
    def all_weights(self):
        per_layer = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        params = self._flat_weights
        return [params[i:i + per_layer] for i in range(0, len(params), per_layer)]

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _weights(self, layer, d):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = lambda n: getattr(self, n + sfx, None)   # noqa: E731
        return (get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"),
                get("weight_hr"))

    def _cell(self, x, state, weights):
        weights, w_hr = weights[:4], weights[4]
        if self.mode == "LSTM":
            h, c = F.lstm_cell(x, state, *weights)
            return (h, c) if w_hr is None else (h.matmul(w_hr.t()), c)   # the projection
        if self.mode == "GRU":
            return F.gru_cell(x, state, *weights)
        return F.rnn_cell(x, state, *weights, "tanh" if self.mode == "RNN_TANH" else "relu")

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        lstm = self.mode == "LSTM"
        if input.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                             f"{input.ndim}D instead")
        unbatched = input.ndim == 2
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first
                                                  else input)
        if unbatched and hx is not None:
            hx = tuple(h.unsqueeze(1) for h in hx) if lstm else hx.unsqueeze(1)
        steps, h_n, c_n = self._run(x, hx)
        output = stack(steps, 0)
        if unbatched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if lstm:
            return output, (h_n, c_n.squeeze(1) if unbatched else c_n)
        return output, h_n

    def _forward_packed(self, packed, hx):
        """The padded batch, each sequence's state held after its last step (so the reverse
        direction starts at its own last step), output repacked in the input's layout."""
        x, lengths = pad_packed_sequence(packed)            # (T, B, *), the batch's order
        lengths = lengths.tolist()
        masks = [tensor([[n > t] for n in lengths]) for t in range(x.shape[0])]
        steps, h_n, c_n = self._run(x, hx, masks)
        out = stack(steps, 0)
        if packed.sorted_indices is not None:
            out = out.index_select(1, packed.sorted_indices)
        sizes = packed.batch_sizes.tolist()
        data = cat([out[t, :b] for t, b in enumerate(sizes)], 0)
        output = PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                packed.unsorted_indices)
        return output, ((h_n, c_n) if self.mode == "LSTM" else h_n)

    def _run(self, x, hx, masks=None):
        """Every layer and direction over x (T, N, input_size): the last layer's outputs per
        step, and the final h (and c) stacked (layers * directions, N, hidden)."""
        lstm = self.mode == "LSTM"
        if x.shape[2] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[2]}")
        dirs = 2 if self.bidirectional else 1
        n = x.shape[1]
        layers = self.num_layers * dirs
        if hx is None:
            z = zeros(layers, n, self.hidden_size, dtype=x.dtype, device=x.device)
            hz = zeros(layers, n, self.proj_size, dtype=x.dtype, device=x.device) \
                if self.proj_size else z
            hx = (hz, z) if lstm else z
        h0, c0 = hx if lstm else (hx, None)
        expect = (layers, n, self.proj_size or self.hidden_size)
        if tuple(h0.shape) != expect:
            raise RuntimeError(f"Expected hidden size {expect}, got {tuple(h0.shape)}")
        if lstm and tuple(c0.shape) != (layers, n, self.hidden_size):
            raise RuntimeError(f"Expected hidden[1] size {(layers, n, self.hidden_size)}, got "
                               f"{tuple(c0.shape)}")
        h_n, c_n = [], []
        steps = [x[t] for t in range(x.shape[0])]
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                state = (h0[k], c0[k]) if lstm else h0[k]
                order = range(len(steps) - 1, -1, -1) if d else range(len(steps))
                seq = [None] * len(steps)
                weights = self._weights(layer, d)
                for t in order:
                    new = self._cell(steps[t], state, weights)
                    if masks is not None:       # past a sequence's end its state is held
                        new = tuple(where(masks[t], a, b) for a, b in zip(new, state)) \
                            if lstm else where(masks[t], new, state)
                    state = new
                    h = state[0] if lstm else state
                    seq[t] = h if masks is None else h.masked_fill(~masks[t], 0.0)
                outs.append(seq)
                h_n.append(state[0] if lstm else state)
                if lstm:
                    c_n.append(state[1])
            steps = [cat([o[t] for o in outs], -1) if dirs == 2 else outs[0][t]
                     for t in range(len(steps))]
            if self.dropout and self.training and layer < self.num_layers - 1:
                steps = [F.dropout(s, self.dropout, True) for s in steps]
        return steps, stack(h_n, 0), (stack(c_n, 0) if lstm else None)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        return s


class RNN(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 proj_size=0):
        mode = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}.get(nonlinearity)
        if mode is None:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)


class LSTM(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, proj_size=0):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)
