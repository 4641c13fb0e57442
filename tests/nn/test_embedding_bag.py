"""nn.EmbeddingBag / F.embedding_bag (tests/nn/embedding_bag_cases.py) against PyTorch's
recorded outputs and gradients, finite differences, a live PyTorch where installed, compiled
training steps against eager, and PyTorch's errors on bad input."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
import stepjit.nn.functional as F
from stepjit.errors import StepjitError
from tests.fixtures import checks
from tests.nn.embedding_bag_cases import CASES


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = (Path(__file__).parents[1] / "fixtures" / "embedding_bag"
                 / "torch_embedding_bag.npz")


def test_text_classifier_trains_compiled_as_eager():
    """The text-classification tutorial's model: EmbeddingBag(mean) -> Linear, SGD, with
    offsets that change every batch (no retrace: offsets are data, not guards)."""
    def model():
        stepjit.manual_seed(0)
        emb = stepjit.nn.EmbeddingBag(30, 8, sparse=False)
        fc = stepjit.nn.Linear(8, 3)
        return emb, fc, stepjit.optim.SGD(list(emb.parameters()) + list(fc.parameters()),
                                          lr=0.5)

    def step(emb, fc, opt, text, offsets, label):
        opt.zero_grad()
        loss = F.cross_entropy(fc(emb(text, offsets)), label)
        loss.backward()
        opt.step()
        return loss.detach()

    rng = np.random.default_rng(3)
    batches = []
    for _ in range(4):
        lengths = rng.integers(1, 6, 4)
        batches.append((stepjit.tensor(rng.integers(0, 30, lengths.sum())),
                        stepjit.tensor(np.concatenate([[0], np.cumsum(lengths)[:-1]])),
                        stepjit.tensor(rng.integers(0, 3, 4))))
    eager, compiled = model(), model()
    run = stepjit.compile(step)
    for text, offsets, label in batches:
        want = step(*eager, text, offsets, label)
        got = run(*compiled, text, offsets, label)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)
    np.testing.assert_allclose(compiled[0].weight.detach().numpy(),
                               eager[0].weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert run.stats()["fallbacks"] == 0


W = stepjit.randn(6, 2)
IDX = stepjit.tensor([1, 2, 4, 5])

BAD = [
    ("float indices", lambda: F.embedding_bag(IDX.float(), W, stepjit.tensor([0])),
     StepjitError, ["indices", "Long, Int", "float32"]),
    ("2-D input with offsets", lambda: F.embedding_bag(IDX.reshape(2, 2), W, stepjit.tensor([0])),
     ValueError, ["offsets has to be None"]),
    ("1-D input without offsets", lambda: F.embedding_bag(IDX, W), ValueError,
     ["offsets has to be a 1D Tensor but got None"]),
    ("bad mode", lambda: F.embedding_bag(IDX, W, stepjit.tensor([0]), mode="median"),
     ValueError, ["mode has to be one of sum, mean or max"]),
    ("weights with mean", lambda: F.embedding_bag(IDX, W, stepjit.tensor([0]),
                                                  per_sample_weights=stepjit.ones(4)),
     NotImplementedError, ["only supported for mode='sum'", "got mode='mean'"]),
    ("weights shape", lambda: F.embedding_bag(IDX, W, stepjit.tensor([0]), mode="sum",
                                              per_sample_weights=stepjit.ones(3)),
     ValueError, ["same shape as the input"]),
    ("index out of range", lambda: F.embedding_bag(stepjit.tensor([0, 9]), W,
                                                   stepjit.tensor([0])),
     StepjitError, ["Index 1 of input takes value 9", "[0, 6)"]),
    ("first offset", lambda: F.embedding_bag(IDX, W, stepjit.tensor([1, 3])), StepjitError,
     ["offsets[0] has to be 0", "got 1"]),
    ("last offset", lambda: F.embedding_bag(IDX, W, stepjit.tensor([0, 7])), StepjitError,
     ["offsets[-1] can not be greater than input's length 4"]),
    ("max with scale_grad_by_freq", lambda: F.embedding_bag(
        IDX, W, stepjit.tensor([0]), mode="max", scale_grad_by_freq=True), ValueError,
     ["max mode does not support scaling"]),
    ("padding_idx outside", lambda: stepjit.nn.EmbeddingBag(6, 2, padding_idx=6),
     AssertionError, ["padding_idx must be within num_embeddings"]),
]


@pytest.mark.parametrize("name,fn,error,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_pytorchs_errors(name, fn, error, words):
    before = W.numpy().copy()
    with pytest.raises(error) as info:
        fn()
    for w in words:
        assert w in str(info.value), f"{name}: {w!r} not in {info.value}"
    np.testing.assert_array_equal(W.numpy(), before)


def test_module_repr_and_grad_fn():
    m = stepjit.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=-1)
    assert repr(m) == "EmbeddingBag(10, 3, mode='sum', padding_idx=9)"
    assert (m.weight[9] == 0).all()
    out = m(stepjit.tensor([[1, 2]]))
    assert type(out.grad_fn).__name__ == "EmbeddingBagBackward0"
