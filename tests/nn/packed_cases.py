"""Packed sequences through the recurrent layers, written against a torch-shaped `T`
(stepjit, or PyTorch in tests/fixtures/record_surface.py): every field of the packed input and
output, the padded output and lengths, h_n, and the input's and weights' gradients."""
import numpy as np

LAYERS = {"lstm_bi_2": ("LSTM", True, 2), "gru": ("GRU", False, 1), "rnn_bi": ("RNN", True, 1)}
LENGTHS = [3, 5, 2]


def packed_case(T, name):
    mode, bidirectional, layers = LAYERS[name]
    m = getattr(T.nn, mode)(3, 4, num_layers=layers, bidirectional=bidirectional).double()
    rng = np.random.RandomState(1)
    with T.no_grad():
        for p in m.parameters():
            p.copy_(T.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.5))
    x = T.from_numpy(np.random.RandomState(2).standard_normal((5, 3, 3))).requires_grad_(True)
    packed = T.nn.utils.rnn.pack_padded_sequence(x, LENGTHS, enforce_sorted=False)
    out, h = m(packed)
    padded, lengths = T.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
    h_n = h[0] if mode == "LSTM" else h
    ((padded ** 2).sum() + (h_n ** 3).sum()).backward()
    values = {"packed_data": packed.data, "batch_sizes": packed.batch_sizes,
              "sorted_indices": packed.sorted_indices, "unsorted_indices": packed.unsorted_indices,
              "out_data": out.data, "padded": padded, "lengths": lengths, "h_n": h_n,
              "x_grad": x.grad}
    values.update({f"grad_{n}": p.grad for n, p in m.named_parameters()})
    return {k: v.detach().numpy() for k, v in values.items()}


def sequences_case(T):
    """pack_sequence / pad_sequence / unpack on sorted sequences (enforce_sorted=True)."""
    seqs = [T.from_numpy(np.arange(n * 2, dtype=np.float64).reshape(n, 2) + n) for n in (4, 2, 1)]
    packed = T.nn.utils.rnn.pack_sequence(seqs)
    padded, lengths = T.nn.utils.rnn.pad_packed_sequence(packed, total_length=6,
                                                         padding_value=-1.0)
    return {"data": packed.data.numpy(), "batch_sizes": packed.batch_sizes.numpy(),
            "padded": padded.numpy(), "lengths": lengths.numpy()}
