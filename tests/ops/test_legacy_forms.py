"""Older spellings that PyTorch still accepts and the official tutorials still use:
`torch.Tensor(1, n)` (the BiLSTM-CRF tutorial's `torch.Tensor(1, tagset_size).fill_(-1e4)`),
`torch.Tensor([0])` as a float tensor, and the scale-first overloads
(`p.data.add_(-learning_rate, p.grad.data)` in the char-RNN generation tutorial,
`addcdiv_(-step, exp_avg, denom)` in older optimizers). The expected values are PyTorch's
documented results, checked against a live PyTorch where one is installed."""
import warnings

import numpy as np
import pytest

import stepjit


# -- torch.Tensor(...) -------------------------------------------------------------------------

def test_tensor_of_sizes_is_a_float_tensor_of_that_shape():
    t = stepjit.Tensor(1, 5).fill_(-10000.)
    assert tuple(t.shape) == (1, 5) and t.dtype is stepjit.float32
    t[0][3] = 0.
    np.testing.assert_array_equal(t.numpy(), [[-1e4, -1e4, -1e4, 0., -1e4]])
    assert tuple(stepjit.Tensor(3).shape) == (3,)          # one int: a size, not the value 3
    assert tuple(stepjit.Tensor(stepjit.Size([2, 3])).shape) == (2, 3)
    assert tuple(stepjit.Tensor().shape) == (0,) and stepjit.Tensor().dtype is stepjit.float32


def test_tensor_of_data_takes_the_default_float_dtype():
    # (torch.Tensor([0]) is float: the CRF tutorial adds parameters to it)
    for data in ([0], [[1, 2], [3, 4]], (2, 3), np.array([1, 2])):
        t = stepjit.Tensor(data)
        assert t.dtype is stepjit.float32, data
        np.testing.assert_array_equal(t.numpy(), np.asarray(data, dtype=np.float32))
    stepjit.set_default_dtype(stepjit.float64)
    try:
        assert stepjit.Tensor([1]).dtype is stepjit.float64
    finally:
        stepjit.set_default_dtype(stepjit.float32)


def test_tensor_of_a_tensor_shares_its_storage():
    a = stepjit.tensor([1., 2.])
    b = stepjit.Tensor(a)
    b[0] = 5.
    np.testing.assert_array_equal(a.numpy(), [5., 2.])


def test_tensor_constructor_errors():
    with pytest.raises(RuntimeError, match="negative dimension"):
        stepjit.Tensor(2, -1)
    with pytest.raises(TypeError):
        stepjit.Tensor(2, [3])


def test_tensor_constructor_against_pytorch():
    torch = pytest.importorskip("torch")
    for args in [(1, 5), (3,), ([0],), ([[1, 2], [3, 4]],), ((2, 3),), ()]:
        want, got = torch.Tensor(*args), stepjit.Tensor(*args)
        assert tuple(got.shape) == tuple(want.shape), args
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], args
        if want.numel() and args and not all(isinstance(a, int) for a in args):
            np.testing.assert_array_equal(got.numpy(), want.numpy())


# -- scale-first overloads ---------------------------------------------------------------------

def _deprecated(fn):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = fn()
    assert any("deprecated" in str(w.message) and w.filename == __file__ for w in seen), \
        [(str(w.message), w.filename) for w in seen]
    return out


def test_scale_first_forms_equal_the_keyword_forms():
    a, b = stepjit.ones(2), stepjit.full((2,), 3.)
    np.testing.assert_array_equal(_deprecated(lambda: stepjit.add(a, 2, b)).numpy(), [7., 7.])
    np.testing.assert_array_equal(_deprecated(lambda: a.add(2, b)).numpy(), [7., 7.])
    np.testing.assert_array_equal(_deprecated(lambda: a.sub(2, b)).numpy(), [-5., -5.])
    np.testing.assert_array_equal(_deprecated(lambda: stepjit.sub(a, 2, b)).numpy(), [-5., -5.])
    c = a.clone()
    _deprecated(lambda: c.add_(-0.5, b))
    np.testing.assert_array_equal(c.numpy(), [-0.5, -0.5])
    _deprecated(lambda: c.sub_(2, b))
    np.testing.assert_array_equal(c.numpy(), [-6.5, -6.5])
    np.testing.assert_array_equal(_deprecated(lambda: a.clone().addcmul_(2, b, b)).numpy(),
                                  [19., 19.])
    np.testing.assert_array_equal(_deprecated(lambda: a.clone().addcdiv_(2, b, b)).numpy(),
                                  [3., 3.])
    np.testing.assert_array_equal(_deprecated(lambda: stepjit.addcmul(a, 2, b, b)).numpy(),
                                  [19., 19.])


def test_scale_first_forms_refuse_what_pytorch_refuses():
    a, b = stepjit.ones(2), stepjit.full((2,), 3.)
    for bad in (lambda: a.add(2, 3), lambda: a.add(b, b), lambda: a.add_(2, b, alpha=2),
                lambda: a.clone().addcmul_(b, b, b)):
        with pytest.raises(TypeError):
            bad()
    np.testing.assert_array_equal(a.numpy(), [1., 1.])


def test_sgd_written_scale_first_compiles_like_eager():
    """The char-RNN generation tutorial's update, `p.data.add_(-lr, p.grad.data)`, in a
    compiled step: the same parameters as eagerly, call after call."""
    def run(compiled):
        stepjit.manual_seed(0)
        lin = stepjit.nn.Linear(4, 3)
        x, y = stepjit.randn(5, 4), stepjit.randn(5, 3)

        def step():
            lin.zero_grad()
            loss = ((lin(x) - y) ** 2).mean()
            loss.backward()
            for p in lin.parameters():
                p.data.add_(-0.1, p.grad.data)
            return loss

        fn = stepjit.compile(step, backend="interpret") if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            losses = [float(fn()) for _ in range(3)]
        return losses, lin.weight.detach().numpy().copy()

    (le, we), (lc, wc) = run(False), run(True)
    assert le == lc and le[0] > le[-1]
    np.testing.assert_array_equal(we, wc)


def test_scale_first_forms_take_a_zero_dim_tensor_scale():
    """PyTorch's parser takes a 0-dim tensor that does not require grad as the leading Number
    (LAMB written as `p.data.add_(-lr * min(r1 / r2, 10), step)`); other tensors are refused."""
    a, b = stepjit.ones(2), stepjit.full((2,), 3.)
    c = a.clone()
    _deprecated(lambda: c.add_(stepjit.tensor(-0.5), b))
    np.testing.assert_array_equal(c.numpy(), [-0.5, -0.5])
    _deprecated(lambda: c.sub_(stepjit.tensor(2., dtype=stepjit.float64), b))
    np.testing.assert_array_equal(c.numpy(), [-6.5, -6.5])
    assert c.dtype == stepjit.float32
    np.testing.assert_array_equal(_deprecated(lambda: a.add(stepjit.tensor(2), b)).numpy(),
                                  [7., 7.])
    np.testing.assert_array_equal(
        _deprecated(lambda: a.clone().addcdiv_(stepjit.tensor(2.), b, b)).numpy(), [3., 3.])
    for bad in (stepjit.tensor([2.]), stepjit.tensor(2., requires_grad=True)):
        with pytest.raises(TypeError):
            a.clone().add_(bad, b)
    np.testing.assert_array_equal(a.numpy(), [1., 1.])


def test_tensor_scale_first_matches_pytorch():
    torch = pytest.importorskip("torch")
    w, g = np.linspace(-1, 1, 6).astype(np.float32), np.linspace(2, 3, 6).astype(np.float32)
    got, want = stepjit.tensor(w), torch.tensor(w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got.add_(stepjit.tensor(-0.25) * stepjit.tensor(g).norm(), stepjit.tensor(g))
        want.add_(torch.tensor(-0.25) * torch.tensor(g).norm(), torch.tensor(g))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_lamb_update_with_a_tensor_trust_ratio_compiles_like_eager():
    """fastai's LAMB stepper: the trust ratio is a tensor the step computes, passed as the
    scale-first Number; the compiled step multiplies by it, as eagerly."""
    def run(compiled):
        stepjit.manual_seed(0)
        lin = stepjit.nn.Linear(4, 3)
        x, y = stepjit.randn(5, 4), stepjit.randn(5, 3)

        def step():
            lin.zero_grad()
            loss = ((lin(x) - y) ** 2).mean()
            loss.backward()
            for p in lin.parameters():
                r1 = p.data.pow(2).mean().sqrt()
                r2 = p.grad.data.pow(2).mean().sqrt()
                p.data.add_(-0.1 * (r1 / r2).clamp(max=10), p.grad.data)
            return loss

        fn = stepjit.compile(step, backend="interpret") if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            losses = [float(fn()) for _ in range(3)]
        return losses, lin.weight.detach().numpy().copy()

    (le, we), (lc, wc) = run(False), run(True)
    assert le[0] > le[-1]
    np.testing.assert_allclose(lc, le, rtol=1e-6)
    np.testing.assert_allclose(wc, we, rtol=1e-6)
