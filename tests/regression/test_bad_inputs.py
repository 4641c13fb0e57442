"""Public functions called with wrong types, shapes, dtypes and devices: an error of
PyTorch's type naming the op, what it got and what it expected, with the user's line (for
the errors stepjit raises; Python's own operator TypeErrors carry it in the traceback), and
the user's tensors unchanged."""
import os

import numpy as np
import pytest

import stepjit
import stepjit.nn.functional as F

HERE = os.path.basename(__file__)


def tensors():
    x = stepjit.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    w = stepjit.tensor(np.ones((3, 3), np.float32), requires_grad=True)
    i = stepjit.tensor([0, 1])
    return x, w, i


# (id, call, exception types, substrings the message must hold)
CASES = [
    ("add_str", lambda x, w, i: x + "a", TypeError, ["add", "tensor", "str"]),
    ("mm_list", lambda x, w, i: x.mm([[1.0]]), TypeError, ["mm()", "mat2", "Tensor", "list"]),
    ("linear_list", lambda x, w, i: F.linear([[1.0]], w), TypeError, ["linear()", "input", "list"]),
    ("matmul_shapes", lambda x, w, i: x @ x, RuntimeError, ["matmul", "[2, 3]", "cannot be multiplied"]),
    ("matmul_0d", lambda x, w, i: x.matmul(stepjit.tensor(1.0)), RuntimeError, ["matmul", "1D", "0D"]),
    ("mm_dtypes", lambda x, w, i: x.mm(w.double()), RuntimeError, ["matmul", "float32", "float64"]),
    ("add_broadcast", lambda x, w, i: x + stepjit.ones(4), RuntimeError, ["add", "[2, 3]", "[4]", "broadcast"]),
    ("reshape_size", lambda x, w, i: x.reshape(5), RuntimeError, ["reshape", "[5]", "6"]),
    ("view_size", lambda x, w, i: x.view(-1, 4), RuntimeError, ["view", "[-1, 4]", "6"]),
    ("view_strides", lambda x, w, i: x.t().view(6), RuntimeError, ["view", "stride", "reshape"]),
    ("sum_dim", lambda x, w, i: x.sum(3), RuntimeError, ["sum", "dim 3", "out of range", "2 dimensions"]),
    ("softmax_dim", lambda x, w, i: x.softmax(-3), RuntimeError, ["softmax", "dim -3", "out of range"]),
    ("transpose_dim", lambda x, w, i: x.transpose(0, 5), RuntimeError, ["transpose", "dim 5", "out of range"]),
    ("unsqueeze_dim", lambda x, w, i: x.unsqueeze(4), RuntimeError, ["unsqueeze", "dim 4", "out of range"]),
    ("expand", lambda x, w, i: x.expand(4, 4), RuntimeError, ["expand", "[2, 3]", "[4, 4]"]),
    ("cat_shapes", lambda x, w, i: stepjit.cat([x, w], 1), RuntimeError, ["[2, 3]", "[3, 3]"]),
    ("index_range", lambda x, w, i: x[5], (IndexError, RuntimeError), ["5", "out of", "2"]),
    ("gather_float_index", lambda x, w, i: x.gather(1, x), RuntimeError, ["long", "float32"]),
    ("mean_int", lambda x, w, i: i.mean(), RuntimeError, ["mean", "int64"]),
    ("nll_float_target", lambda x, w, i: F.nll_loss(x, x[:, 0]), RuntimeError, ["Long", "float32"]),
    ("ce_batch", lambda x, w, i: F.cross_entropy(x, stepjit.tensor([0, 1, 2])), ValueError,
     ["batch_size", "2", "3"]),
    ("bce_range", lambda x, w, i: F.binary_cross_entropy(x, x), RuntimeError, ["between 0 and 1"]),
    ("zeros_negative", lambda x, w, i: stepjit.zeros(-1, 2), RuntimeError, ["negative", "[-1, 2]"]),
    ("leaf_inplace", lambda x, w, i: w.add_(1.0), RuntimeError, ["leaf", "requires grad"]),
    ("cuda_device", lambda x, w, i: x.to("cuda:7"), (RuntimeError, AssertionError), ["cuda"]),
    ("device_string", lambda x, w, i: x.to("tpu"), (RuntimeError, TypeError), ["tpu"]),
]


def _line_of(case_id):
    with open(__file__) as f:
        for n, line in enumerate(f, 1):
            if line.strip().startswith(f'("{case_id}"'):
                return n
    raise AssertionError(case_id)


@pytest.mark.parametrize("case_id, call, exc, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_names_op_got_and_expected(case_id, call, exc, words):
    ts = tensors()
    before = [(t.detach().numpy().copy(), t._version.value, t.requires_grad, t.grad) for t in ts]
    with pytest.raises(exc) as info:
        call(*ts)
    msg = str(info.value)
    for word in words:
        assert word.lower() in msg.lower(), f"{case_id}: {word!r} not in {msg!r}"
    if not isinstance(info.value, TypeError):
        assert f"{HERE}:{_line_of(case_id)}" in msg, f"{case_id}: no user line in {msg!r}"
    for t, (data, version, rg, grad) in zip(ts, before):
        np.testing.assert_array_equal(t.detach().numpy(), data)
        assert t._version.value == version and t.requires_grad == rg and t.grad is grad
