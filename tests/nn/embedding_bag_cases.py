"""nn.EmbeddingBag and F.embedding_bag against PyTorch: every mode with offsets (1-D input)
and fixed-length bags (2-D input), per_sample_weights, include_last_offset, padding_idx,
empty bags, max_norm and from_pretrained; outputs and gradients to the weight and the
per-sample weights, recorded by tests/fixtures/record_embedding_bag.py."""
import numpy as np

from tests.fixtures.oracle import Case, Probe, layer

RNG = np.random.default_rng(4242)
W = RNG.standard_normal((10, 4))
IDX = np.array([1, 2, 4, 5, 4, 3, 7, 7, 0, 9, 2])
OFFSETS = np.array([0, 2, 2, 6, 9])          # bag 1 empty; bag 3 repeats row 7
IDX2D = np.array([[1, 2, 4], [5, 4, 3], [7, 7, 0], [0, 9, 2]])


def F(T):
    return T.nn.functional


def bag(mode, **kw):
    return lambda T, w, i, o: F(T).embedding_bag(i, w, o, mode=mode, **kw)


CASES = []
for mode in ("sum", "mean", "max"):
    CASES += [
        Case(f"offsets_{mode}", bag(mode), W, IDX, OFFSETS, compiled=True),
        Case(f"fixed_length_{mode}", lambda T, w, i, mode=mode: F(T).embedding_bag(
            i, w, mode=mode), W, IDX2D, compiled=True),
        Case(f"include_last_offset_{mode}", bag(mode, include_last_offset=True), W, IDX,
             np.array([0, 3, 3, 11])),
        Case(f"padding_idx_{mode}", bag(mode, padding_idx=4), W, IDX, OFFSETS),
        Case(f"module_{mode}", lambda T, i, o, mode=mode: layer(
            T, T.nn.EmbeddingBag(10, 4, mode=mode), i, o), IDX, OFFSETS),
    ]
CASES += [
    Case("per_sample_weights", lambda T, w, i, o, p: F(T).embedding_bag(
        i, w, o, mode="sum", per_sample_weights=p), W, IDX, OFFSETS, RNG.uniform(0, 2, 11),
         compiled=True),
    Case("per_sample_weights_2d", lambda T, w, i, p: F(T).embedding_bag(
        i, w, mode="sum", per_sample_weights=p), W, IDX2D, RNG.uniform(0, 2, (4, 3))),
    Case("padding_idx_negative_module", lambda T, i: layer(
        T, T.nn.EmbeddingBag(10, 4, mode="mean", padding_idx=-1), i), IDX2D),
    Case("all_padding_bag_mean", bag("mean", padding_idx=7), W, IDX, OFFSETS),
    Case("empty_input", bag("sum"), W, np.zeros(0, np.int64), np.array([0, 0])),
    Case("int32_indices", lambda T, w, i, o: F(T).embedding_bag(i.int(), w, o.int(), mode="sum"),
         W, IDX, OFFSETS),
    Case("from_pretrained_trainable", lambda T, w, i, o: (lambda m: Probe(m(i, o), m))(
        T.nn.EmbeddingBag.from_pretrained(w, freeze=False, mode="sum")), W, IDX, OFFSETS,
         grad=()),    # (the gradient reaches the module's parameter: pgrad:weight)
    Case("from_pretrained_frozen", lambda T, w, i, o: (lambda m: (
        m(i, o), m.weight.requires_grad))(T.nn.EmbeddingBag.from_pretrained(w * 1.0)),
         W, IDX, OFFSETS, grad=()),
    Case("max_norm", lambda T, w, i, o: (lambda w2: (F(T).embedding_bag(
        i, w2, o, max_norm=1.5, mode="mean"), w2.detach()))(w.detach().clone()),
         W * 2, IDX, OFFSETS, grad=()),
]
