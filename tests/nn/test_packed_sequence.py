"""nn.utils.rnn packing and the recurrent layers over PackedSequences, against PyTorch's
recorded values (tests/fixtures/surface/torch_packed.npz, `python -m tests.fixtures surface`):
PyTorch's layout field by field, outputs, h_n and gradients (float64); compiled = eager."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from stepjit.nn.utils import rnn as R

from tests.nn.packed_cases import LAYERS, packed_case, sequences_case

RECORDED = np.load(Path(__file__).parents[1] / "fixtures" / "surface" / "torch_packed.npz")


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_packed_recurrent_layers_match_pytorch(name):
    got = packed_case(stepjit, name)
    keys = sorted(k.split("/", 1)[1] for k in RECORDED.files if k.startswith(name + "/"))
    assert sorted(got) == keys
    for k in keys:
        want = RECORDED[f"{name}/{k}"]
        assert got[k].shape == want.shape, k
        np.testing.assert_allclose(got[k], want, rtol=1e-10, atol=1e-12, err_msg=k)


def test_pack_sequence_and_pad_match_pytorch():
    got = sequences_case(stepjit)
    for k, v in got.items():
        np.testing.assert_array_equal(v, RECORDED[f"sequences/{k}"], err_msg=k)


def test_packing_errors_name_the_fix():
    x = stepjit.zeros(4, 2, 3)
    with pytest.raises(RuntimeError, match="enforce_sorted=False"):
        R.pack_padded_sequence(x, [2, 4])
    with pytest.raises(RuntimeError, match="greater than 0"):
        R.pack_padded_sequence(x, [3, 0], enforce_sorted=False)
    packed = R.pack_padded_sequence(x, [4, 2])
    with pytest.raises(ValueError, match="total_length"):
        R.pad_packed_sequence(packed, total_length=2)


def test_packed_lstm_step_compiled_equals_eager():
    def run(wrap):
        stepjit.manual_seed(0)
        lstm = stepjit.nn.LSTM(3, 4, bidirectional=True)
        head = stepjit.nn.Linear(8, 2)
        opt = stepjit.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=0.1)
        x = stepjit.randn(5, 3, 3)

        @wrap
        def step(x):
            packed = R.pack_padded_sequence(x, [3, 5, 2], enforce_sorted=False)
            _, (h, _) = lstm(packed)
            loss = head(stepjit.cat([h[0], h[1]], 1)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return [step(x).item() for _ in range(3)]
    assert run(lambda f: stepjit.compile(f, backend="interpret")) == run(lambda f: f)


def test_packed_step_is_replayed_and_follows_new_lengths():
    """The batch sizes pack_padded_sequence makes from the Python lengths are read back by the
    LSTM (`.tolist()`): a constant of the trace, so the step replays instead of tracing every
    call (as a captioning decoder trained on packed captions does); lengths that change
    between calls (a global list) are followed, and every call equals eager."""
    def run(compiled):
        stepjit.manual_seed(1)
        lstm = stepjit.nn.LSTM(3, 4, batch_first=True)
        opt = stepjit.optim.SGD(lstm.parameters(), lr=0.1)
        x = stepjit.randn(3, 5, 3)
        lengths = [5, 4, 2]

        def step(x):
            out, _ = lstm(R.pack_padded_sequence(x, lengths, batch_first=True))
            loss = out.data.pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        f = stepjit.compile(step, backend="interpret") if compiled else step
        losses = [f(x).item() for _ in range(5)]
        lengths[1:] = [3, 3]
        losses += [f(x).item() for _ in range(2)]
        return losses, (f.stats() if compiled else None)
    (got, stats), (want, _) = run(True), run(False)
    assert got == want
    assert stats["mode"] != "per-call retracing" and stats["eager_calls"] == 0
    assert stats["traces"] <= 4 and stats["calls"] == 7
