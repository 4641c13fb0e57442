"""Whole objects in a checkpoint (`stepjit.save(model, f)`, as word_language_model saves its
model): rebuilt only for allowed classes, with no code of the class run; shared submodules
and tied weights stay shared."""
import io
import pickle

import numpy as np
import pytest

import stepjit
from stepjit import nn


class TiedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(7, 4)
        self.rnn = nn.LSTM(4, 4, 1)
        self.decoder = nn.Linear(4, 7)
        self.decoder.weight = self.encoder.weight
        self.act = nn.ReLU()
        self.act2 = self.act
        self.kind = "LSTM"
        self.mask = None


class Exploding(nn.Module):
    built = 0

    def __init__(self):
        super().__init__()
        Exploding.built += 1
        self.lin = nn.Linear(2, 2)


def _roundtrip(obj, **load):
    buf = io.BytesIO()
    stepjit.save(obj, buf)
    buf.seek(0)
    return stepjit.load(buf, **load)


def test_whole_model_needs_its_class_allowed_and_comes_back_equal():
    model = TiedLM()
    with pytest.raises(pickle.UnpicklingError, match="TiedLM.*add_safe_globals"):
        _roundtrip(model)
    allowed = [TiedLM, nn.Embedding, nn.LSTM, nn.Linear, nn.ReLU]
    with pytest.raises(pickle.UnpicklingError, match="Embedding"):
        with stepjit.serialization.safe_globals([TiedLM]):
            _roundtrip(model)
    with stepjit.serialization.safe_globals(allowed):
        back = _roundtrip(model)
    assert type(back) is TiedLM and back.kind == "LSTM" and back.mask is None
    assert back.decoder.weight is back.encoder.weight          # tied stays tied
    assert back.act is back.act2                                # one module, not two
    for (n1, p1), (n2, p2) in zip(model.state_dict().items(), back.state_dict().items()):
        assert n1 == n2
        np.testing.assert_array_equal(p1.numpy(), p2.numpy())
    x = stepjit.tensor([[1, 2], [3, 4]])
    h = model.encoder(x)
    np.testing.assert_array_equal(back.rnn(back.encoder(x))[0].detach().numpy(),
                                  model.rnn(h)[0].detach().numpy())


def test_loading_runs_no_code_of_the_class():
    model = Exploding()
    built = Exploding.built
    back = _roundtrip(model, weights_only=False)
    assert Exploding.built == built and isinstance(back, Exploding)
    stepjit.serialization.add_safe_globals([Exploding, nn.Linear])
    try:
        assert type(_roundtrip(model)) is Exploding
    finally:
        stepjit.serialization.clear_safe_globals()


def test_what_cannot_be_found_by_name_is_pickled_or_refused():
    def local():
        pass
    with pytest.raises(TypeError, match="cannot store function.*pickling it failed"):
        _roundtrip({"fn": local})
    with pytest.raises(TypeError, match="cannot store generator"):
        _roundtrip({"gen": (i for i in range(2))})
