"""Eager dispatch's fast paths against its generic path (dispatch.FAST off) and NumPy.

Each case runs the same program on both paths and compares values bit for bit, dtypes,
grad_fn names, requires_grad, version counters and gradients."""
import numpy as np
import pytest

import stepjit as torch
from stepjit import dispatch
from stepjit.nn import Parameter


def _both(monkeypatch, program):
    """program() run on the fast path and on the generic path, from the same seed."""
    torch.manual_seed(0)
    fast = program()
    monkeypatch.setattr(dispatch, "FAST", False)
    torch.manual_seed(0)
    generic = program()
    monkeypatch.setattr(dispatch, "FAST", True)
    return fast, generic


def _describe(t):
    """What a program's tensor result shows a user."""
    if not isinstance(t, torch.Tensor):
        return t
    return (t.detach().numpy().tobytes(), t.dtype, tuple(t.shape), t.requires_grad,
            None if t.grad_fn is None else t.grad_fn.name(), t._version.value)


def _inputs(dtype=torch.float32):
    g = np.random.default_rng(0)
    a = torch.tensor(g.standard_normal((3, 4)), dtype=dtype)
    b = torch.tensor(g.standard_normal((3, 4)), dtype=dtype, requires_grad=True)
    row = torch.tensor(g.standard_normal((4,)), dtype=dtype)
    p = Parameter(torch.tensor(g.standard_normal((3, 4)), dtype=dtype))
    return a, b, row, p


OPS = {
    "tensor+tensor": lambda a, b, row, p: a + b,
    "tensor*row": lambda a, b, row, p: b * row,
    "tensor-int": lambda a, b, row, p: b - 2,
    "tensor/float": lambda a, b, row, p: b / 3.5,
    "tensor**int": lambda a, b, row, p: b.pow(2),
    "tensor<int": lambda a, b, row, p: b < 0,
    "tensor==bool": lambda a, b, row, p: a == True,  # noqa: E712 (a bool operand, on purpose)
    "int-tensor": lambda a, b, row, p: 2 - b,
    "float*tensor": lambda a, b, row, p: 0.5 * b,
    "int/tensor": lambda a, b, row, p: 1 / b,
    "float**tensor": lambda a, b, row, p: 2.0 ** b,
    "int+tensor": lambda a, b, row, p: 3 + b,
    "parameter@tensor": lambda a, b, row, p: p.mm(b.t()),
    "clamp(min)": lambda a, b, row, p: b.clamp(min=0),
    "clamp(min,max)": lambda a, b, row, p: b.clamp(min=-0.5, max=0.5),
    "sum()": lambda a, b, row, p: b.sum(),
    "sum(dim)": lambda a, b, row, p: b.sum(1, keepdim=True),
    "clone": lambda a, b, row, p: b.clone(),
    "reshape (a view)": lambda a, b, row, p: b.reshape(4, 3),
    "neg": lambda a, b, row, p: -b,
    "int tensor * float": lambda a, b, row, p: torch.arange(4) * 1.5,
    "where (3 inputs)": lambda a, b, row, p: torch.where(a > 0, b, 0.0),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", sorted(OPS))
def test_op_matches_generic_path(monkeypatch, name, dtype):
    def program():
        a, b, row, p = _inputs(dtype)
        out = OPS[name](a, b, row, p)
        grads = None
        if out.requires_grad:
            out.sum().backward()
            grads = [None if t.grad is None else t.grad.numpy().tobytes() for t in (b, p)]
        return _describe(out), grads
    fast, generic = _both(monkeypatch, program)
    assert fast == generic


def test_mixed_dtypes_and_views_match_generic_path(monkeypatch):
    def program():
        a = torch.ones(2, 3, dtype=torch.float64)
        b = torch.ones(3, dtype=torch.float32, requires_grad=True)
        c = a * b            # promotes to float64
        v = c.reshape(3, 2)  # a view: shares c's version counter
        c.mul_(2)
        return _describe(c), _describe(v), v._version is c._version
    fast, generic = _both(monkeypatch, program)
    assert fast == generic and fast[2]


def test_errors_match_generic_path(monkeypatch):
    def program():
        messages = []
        for f in (lambda: torch.ones(2, 3) + torch.ones(4), lambda: torch.ones(2, 3).mm(torch.ones(2, 3)),
                  lambda: torch.ones(2) - "x"):
            try:
                f()
            except Exception as e:   # noqa: BLE001 (the message is what is compared)
                messages.append((type(e), str(e)))
        return messages
    fast, generic = _both(monkeypatch, program)
    assert fast == generic and len(fast) == 3


# -- x[mask] = number (dispatch.setitem_fast) ------------------------------------------------
@pytest.mark.parametrize("value", [0, -1, 2.5, 1e-40, 3 * 10 ** 9 + 1])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
def test_mask_setitem_matches_generic_path_and_numpy(monkeypatch, dtype, value):
    src = np.random.default_rng(1).standard_normal((5, 3)) * 3

    def program():
        t = torch.tensor(src, dtype=dtype)
        t[t < 0] = value
        return _describe(t)
    fast, generic = _both(monkeypatch, program)
    assert fast == generic
    expected = np.array(src, dtype=dtype.np)
    expected[expected < 0] = value
    assert fast[0] == expected.tobytes()


def test_mask_setitem_autograd_matches_generic_path(monkeypatch):
    def program():
        out = []
        w = torch.randn(3, 4, requires_grad=True)
        try:   # a leaf that requires grad
            w[w < 0] = 0
        except RuntimeError as e:
            out.append(str(e))
        h = w * 2   # not a leaf: the write is recorded
        h[h < 0] = 0
        h.sum().backward()
        out += [_describe(h), w.grad.numpy().tobytes()]
        with torch.no_grad():   # no grad mode: a plain write
            w[w < 0] = 0
        out.append(_describe(w))
        v = w.detach()   # shares w's version counter: backward through a saved w raises
        y = (w * w).sum()
        v[v > 0] = 1.0
        try:
            y.backward()
        except RuntimeError as e:
            out.append(str(e))
        b = torch.ones(4, 4, requires_grad=True)   # a view of a base that requires grad
        try:
            b[0][b[0] > 0] = 0
        except RuntimeError as e:
            out.append(str(e))
        return out
    fast, generic = _both(monkeypatch, program)
    assert fast == generic and len(fast) == 6


@pytest.mark.parametrize("case", ["broadcast mask", "0-d", "float mask", "tensor value",
                                  "numpy value", "bool value"])
def test_mask_setitem_other_keys_match_generic_path(monkeypatch, case):
    def program():
        t = torch.arange(12.0).reshape(3, 4) - 5
        try:
            if case == "broadcast mask":
                t[torch.tensor([True, False, True])] = 1.0
            elif case == "0-d":
                s = torch.tensor(3.0)
                s[s > 0] = 1.0
                t = s
            elif case == "float mask":
                t[t.float()] = 0
            elif case == "tensor value":
                t[t < 0] = torch.tensor(7.0)
            elif case == "numpy value":
                t[t < 0] = np.float64(0.1)
            else:
                t[t < 0] = True
        except Exception as e:   # noqa: BLE001 (the message is what is compared)
            return type(e), str(e)
        return _describe(t)
    fast, generic = _both(monkeypatch, program)
    assert fast == generic


# -- one-operand in-place writes (the SGD update) ----------------------------------------------
@pytest.mark.parametrize("case", ["tensor", "row", "int", "float", "numpy float", "float64 into float32",
                                  "int tensor, float"])
def test_inplace_update_matches_generic_path(monkeypatch, case):
    def program():
        w = torch.randn(3, 4, requires_grad=True)
        w.sum().backward()
        if case == "int tensor, float":
            w = torch.arange(4)
        try:
            with torch.no_grad():
                if case == "tensor":
                    w -= 0.1 * w.grad
                elif case == "row":
                    w += torch.ones(4)
                elif case == "int":
                    w *= 3
                elif case in ("float", "int tensor, float"):
                    w -= 1.5
                elif case == "numpy float":
                    w -= np.float64(0.25)
                else:
                    w -= torch.ones(3, 4, dtype=torch.float64)
        except Exception as e:   # noqa: BLE001 (the message is what is compared)
            return type(e), str(e)
        return _describe(w)
    fast, generic = _both(monkeypatch, program)
    assert fast == generic


# -- a Python number operand (dispatch.number_array) -----------------------------------------
@pytest.mark.parametrize("value", [2, -0.0, 1e-6, 1e-40, 3, 2.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
@pytest.mark.parametrize("op", ["mul", "pow", "sub", "rsub"])
def test_number_operand_matches_numpy_scalar_of_output_dtype(op, dtype, value):
    # dispatch converts a number to the output dtype as a 0-d array, not a NumPy scalar; the
    # result must be what NumPy computes with the scalar: same dtype, same bits.
    if dtype is torch.int64 and type(value) is float:
        return   # the output is float: promotion, not this conversion
    src = np.random.default_rng(2).uniform(0.5, 2.0, (3, 4)) * 3
    t = torch.tensor(src, dtype=dtype)
    a, s = t.numpy(), dtype.np.type(value)
    got, want = {"mul": (lambda: t * value, lambda: a * s),
                 "pow": (lambda: t.pow(value), lambda: np.power(a, s)),
                 "sub": (lambda: t - value, lambda: a - s),
                 "rsub": (lambda: value - t, lambda: s - a)}[op]
    got, want = got(), want()
    assert got.dtype.np == want.dtype and got.numpy().tobytes() == want.tobytes()


def test_number_array_is_the_scalar_types_conversion():
    # rounding, overflow and out-of-range ints as np.float32(...) / np.int32(...) do them
    assert dispatch.number_array(0.1, np.dtype(np.float32)).tobytes() == np.float32(0.1).tobytes()
    assert np.signbit(dispatch.number_array(-0.0, np.dtype(np.float32)))
    with np.errstate(over="warn"), pytest.warns(RuntimeWarning):   # (stepjit silences it)
        assert np.isinf(dispatch.number_array(1e40, np.dtype(np.float32)))
    # an int out of an integer dtype's range wraps, as PyTorch's int32 tensor + 2 ** 40 does
    assert dispatch.number_array(2 ** 40 + 3, np.dtype(np.int32)) == 3
    assert dispatch.number_array(300, np.dtype(np.uint8)) == 44
    with pytest.raises(OverflowError):
        dispatch.number_array(2 ** 70, np.dtype(np.int32))
