"""bfloat16 storage (stepjit/ir/bfloat16.py) against PyTorch: rounding, the bits exporters write
(llm.c's `t.to(torch.bfloat16).view(torch.int16).numpy()`), conversions back, moves, printing;
recorded by tests/fixtures/record_bfloat16.py."""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(16)
SPECIAL = np.array([1.0, 1 / 3, 65504.0, 1e38, 3.4e38, np.inf, -np.inf, np.nan, -0.0, 1e-40,
                    1.00390625, 1.01171875, -2.5e-3, 7.0e-39], dtype=np.float32)
X = RNG.standard_normal((3, 4)).astype(np.float32) * np.float32(40.0)
X64 = RNG.standard_normal((2, 5)) * 1e-3


def _bits(T, x):
    b = x.to(T.bfloat16)
    return b.view(T.int16), b.view(T.int16).numpy(), b.float(), b.to(T.float64)


def _export(T, x):
    """llm.c's write_bf16, and its reverse."""
    t = x.detach().cpu().to(T.bfloat16)
    raw = t.view(T.int16).numpy().tobytes()
    back = T.from_numpy(np.frombuffer(raw, dtype=np.int16).copy()).view(T.bfloat16)
    return np.frombuffer(raw, dtype=np.uint8).copy(), back.float().reshape(x.shape)


def _moves(T, x):
    b = x.to(T.bfloat16)
    outs = (b.t(), b[1:, ::2], b.reshape(-1), T.cat([b, b]), b.clone(), b.contiguous(),
            b.unsqueeze(0).expand(2, 3, 4), b.bfloat16(), b.type(T.float32))
    return tuple(o.float() for o in outs) + (b.view(T.uint8).shape, b.t().dtype == T.bfloat16)


def _described(T, x):
    b = x.to(T.bfloat16)
    name = T.__name__ + "."
    return (repr(b).replace(name, ""), repr(b[0, :2]).replace(name, ""), b.type().replace(name, ""),
            str(b.dtype).replace(name, ""), b.tolist(), b[0, 0].item(), b.element_size(),
            b.is_floating_point(), repr(T.zeros(0).to(T.bfloat16)).replace(name, ""),
            repr(T.tensor([1, 2]).to(T.bfloat16)).replace(name, ""), b.to(T.int64),
            T.tensor([True, False]).to(T.bfloat16).float())


CASES = [
    Case("special_values", _bits, SPECIAL, grad=()),
    Case("random_values", _bits, X, grad=()),
    Case("from_float64", _bits, X64, grad=()),
    Case("export", _export, X, grad=()),
    Case("moves", _moves, X, grad=()),
    Case("described", _described, X, grad=()),
]
