"""nn.Transformer (encoder + decoder stacks) against PyTorch with the same weights, and
PyTorch's module paths that checkpoints and safe_globals lists name."""
import numpy as np
import pytest

import stepjit
from stepjit import nn


def test_transformer_matches_pytorch_forward_and_gradients():
    torch = pytest.importorskip("torch")
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
              dim_feedforward=12, dropout=0.0)
    ours, theirs = nn.Transformer(**kw).double(), torch.nn.Transformer(**kw).double()
    names = [n for n, _ in ours.named_parameters()]
    assert names == [n for n, _ in theirs.named_parameters()]
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    rng = np.random.RandomState(0)
    src, tgt = rng.standard_normal((5, 2, 8)), rng.standard_normal((4, 2, 8))
    outs = []
    for T, m in ((stepjit, ours), (torch, theirs)):
        mask = m.generate_square_subsequent_mask(4).double()
        out = m(T.from_numpy(src), T.from_numpy(tgt), tgt_mask=mask)
        out.pow(2).sum().backward()
        grads = [p.grad.numpy().copy() for _, p in m.named_parameters()]
        outs.append((out.detach().numpy(), grads))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-10, atol=1e-12)
    for a, b in zip(outs[0][1], outs[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_generate_square_subsequent_mask_and_init():
    m = nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                       dim_feedforward=4)
    mask = m.generate_square_subsequent_mask(3).numpy()
    np.testing.assert_array_equal(mask, np.triu(np.full((3, 3), -np.inf), 1) + 0.0)
    bound = np.sqrt(6 / (4 + 4))                       # xavier_uniform_ on every matrix
    assert np.abs(m.encoder.layers[0].linear1.weight.detach().numpy()).max() <= bound
    with pytest.raises(RuntimeError, match="batch number"):
        m(stepjit.zeros(3, 2, 4), stepjit.zeros(3, 1, 4))


def test_pytorch_module_paths_and_legacy_names():
    assert nn.modules.activation.MultiheadAttention is nn.MultiheadAttention
    assert nn.modules.linear.NonDynamicallyQuantizableLinear.__mro__[1] is nn.Linear
    assert nn.modules.transformer.TransformerDecoderLayer is nn.TransformerDecoderLayer
    lstm = nn.LSTM(3, 4, 2)
    lstm.flatten_parameters()
    assert lstm._flat_weights_names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                           "bias_hh_l0"]
    assert len(lstm.all_weights) == 2 and lstm.all_weights[1][0] is lstm.weight_ih_l1
    t = stepjit.LongTensor(6).zero_().view(-1, 2)
    assert t.dtype is stepjit.int64 and tuple(t.shape) == (3, 2)
    assert isinstance(t, stepjit.LongTensor) and not isinstance(t, stepjit.FloatTensor)
    assert stepjit.FloatTensor([1, 2]).dtype is stepjit.float32
    assert stepjit.tensor([1.7]).type(stepjit.LongTensor).tolist() == [1]
    with pytest.raises(NotImplementedError, match="ONNX"):
        stepjit.onnx.export(lstm, None, "x.onnx")
