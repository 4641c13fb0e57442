"""A NumPy array as the right operand of a tensor's arithmetic operator (`x * mask_np`): PyTorch
declines it and NumPy computes the result from the tensor's values, wrapped back into a tensor.
So the values and the result dtype are NumPy's (checked against NumPy here, and against PyTorch
where it is installed), a tensor that requires grad is refused as NumPy's conversion refuses
it, and a compiled step computes what the eager step does."""
import operator

import numpy as np
import pytest

import stepjit as torch

OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
       operator.mod, operator.pow]
CASES = [  # (tensor values, tensor dtype, array)
    (np.array([1.5, -2.0, 3.25]), "float32", np.array([2.0, 0.5, -1.5], dtype=np.float32)),
    (np.array([1.5, -2.0, 3.25]), "float32", np.array([2, 3, -1], dtype=np.int64)),
    (np.array([1.5, -2.0, 3.25]), "float32", np.array(0.75)),            # 0-d float64
    (np.array([1.5, -2.0, 3.25]), "float64", np.array([2.0, 0.5, 4.0], dtype=np.float32)),
    (np.array([[3, -4], [5, 6]]), "int64", np.array([2.5, -1.5])),        # broadcast, int tensor
]


@pytest.mark.parametrize("op", OPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_values_and_dtype_are_numpys(op, case):
    values, dtype, array = CASES[case]
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    want = op(values.astype(dtype), array)
    got = op(t, array)
    assert isinstance(got, torch.Tensor) and got.dtype.np == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got.numpy(), want)


def test_agrees_with_pytorch():
    pt = pytest.importorskip("torch")
    for values, dtype, array in CASES:
        for op in OPS:
            want = op(pt.tensor(values, dtype=getattr(pt, dtype)), array)
            got = op(torch.tensor(values, dtype=getattr(torch, dtype)), array)
            assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
            np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_a_tensor_that_requires_grad_is_refused_as_pytorch_does():
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
        w * np.ones(3)
    assert w.grad is None and w.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(TypeError, match="mul: expected a tensor or a Python number, got ndarray"):
        w.mul(np.ones(3))            # the named method takes tensors only, as PyTorch's


def test_a_compiled_step_computes_what_eager_does():
    mask = np.array([1.0, 0.0, 2.0])             # float64: the product is float64, as NumPy's
    results = []
    for compiled in (False, True):
        w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)

        def step(x):
            loss = (w * (x * mask + np.array(0.25))).sum()
            loss.backward()
            return loss
        fn = torch.compile(step) if compiled else step
        runs = [fn(torch.full((3,), float(i))) for i in range(4)]
        results.append(([r.item() for r in runs], [r.dtype for r in runs], w.grad.numpy().copy()))
    assert results[0][0] == results[1][0] and results[0][1] == results[1][1] == [torch.float64] * 4
    np.testing.assert_array_equal(results[0][2], results[1][2])


def test_a_closure_array_operand_is_read_on_every_call():
    """`x * mask` with `mask` a closure's array is an input of the trace (runtime/
    test_named_arrays.py): refilled in place between calls, each call computes with what it
    holds now, in NumPy's result type, as eagerly."""
    mask = np.zeros(3, np.float32)

    def step(x):
        return (x * mask).sum()
    fn = torch.compile(step)
    for i in range(4):
        mask[:] = [i, 0.5, -2 * i]
        x = torch.tensor([1.0, 2.0, 3.0])
        assert fn(x).item() == step(x).item() == np.float32(1 * i + 2 * 0.5 - 3 * 2 * i)
    assert fn._stats["eager_calls"] == 0 and fn._stats["traces"] <= 2
