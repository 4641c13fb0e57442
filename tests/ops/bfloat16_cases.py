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


def _factories(T, x):
    """Factories with dtype=bfloat16 (the float32 fill rounded; `empty`'s values unspecified)."""
    bf = T.bfloat16
    outs = (T.zeros(2, 3, dtype=bf), T.ones(4, dtype=bf), T.full((2, 2), 1 / 3, dtype=bf),
            T.full((3,), -70000.5, dtype=bf), T.zeros(size=(2,), dtype=bf),
            T.tensor([0.1, 1 / 3, 1e38, -2.5e-3, 3.4e38, 7.0e-39], dtype=bf),
            T.tensor([[1, 2], [300, -7]], dtype=bf), T.zeros_like(x, dtype=bf),
            T.ones_like(x, dtype=bf), T.full_like(x, 2.7, dtype=bf))
    empty = T.empty(2, 5, dtype=bf)
    grows = T.ones(3, dtype=bf, requires_grad=True)
    return tuple(o.view(T.int16) for o in outs) + tuple(o.dtype == bf for o in outs) + (
        tuple(empty.shape), empty.dtype == bf, grows.requires_grad, grows.is_leaf)


def _module_storage(T, x):
    """Module.to(bfloat16) and .bfloat16() store floating parameters (same Parameter
    objects) in bfloat16 and leave an integer buffer; .float() brings them back."""
    lin = T.nn.Linear(4, 3)
    with T.no_grad():
        lin.weight.copy_(x[:3])
        lin.bias.copy_(x[1, :3])
    lin.register_buffer("steps", T.tensor([5]))
    w = lin.weight
    lin.to(T.bfloat16)
    first = (lin.weight.view(T.int16), lin.bias.float(), lin.weight.dtype == T.bfloat16,
             lin.weight is w, lin.steps.dtype == T.int64, lin.weight.requires_grad,
             isinstance(lin.weight, T.nn.Parameter))
    lin.float()
    second = (lin.weight.dtype == T.float32, lin.weight.detach().clone(), lin.steps.clone())
    lin.bfloat16()
    return first + second + (lin.bias.view(T.int16), lin.to(dtype=T.float64).weight.dtype ==
                             T.float64)


CASES = [
    Case("special_values", _bits, SPECIAL, grad=()),
    Case("random_values", _bits, X, grad=()),
    Case("from_float64", _bits, X64, grad=()),
    Case("export", _export, X, grad=()),
    Case("moves", _moves, X, grad=()),
    Case("described", _described, X, grad=()),
    Case("factories", _factories, X, grad=()),
    Case("module_storage", _module_storage, X, grad=()),
]
