"""Optional PyTorch oracle: values, gradients and reprs of nn against torch itself (skips without torch)."""
import numpy as np
import pytest

import stepjit
import stepjit.nn as nn
import stepjit.nn.functional as F

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(3)
X = RNG.standard_normal((5, 4)).astype(np.float32)
X[0, 0] = 0.0  # a tie for the max/abs-based formulas
PROB = RNG.uniform(0.01, 0.99, (5, 4)).astype(np.float32)
BIN = (RNG.uniform(size=(5, 4)) > 0.5).astype(np.float32)
LABELS = np.array([0, 3, 1, -100, 2])
W = RNG.uniform(0.5, 2.0, 4).astype(np.float32)


def _both(fn_s, fn_t, inputs, extras):
    """Run fn on stepjit and torch; return (loss, input grad) of each."""
    xs = stepjit.tensor(inputs, requires_grad=True)
    xt = torch.tensor(inputs, requires_grad=True)
    ls = fn_s(xs, *[stepjit.tensor(e) for e in extras])
    lt = fn_t(xt, *[torch.tensor(e) for e in extras])
    ls.sum().backward()
    lt.sum().backward()
    return (ls.detach().numpy(), xs.grad.numpy()), (lt.detach().numpy(), xt.grad.numpy())


CASES = [
    ("mse_loss", X, [PROB], {}),
    ("l1_loss", X, [PROB], {}),
    ("binary_cross_entropy", PROB, [BIN], {}),
    ("binary_cross_entropy_with_logits", X, [BIN], {}),
    ("cross_entropy", X, [LABELS], {}),
    ("cross_entropy", X, [PROB], {}),
    ("nll_loss", X, [LABELS], {}),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,inp,extras,kw", CASES)
def test_losses_match_torch(name, inp, extras, kw, reduction):
    s, t = _both(lambda *a: getattr(F, name)(*a, reduction=reduction, **kw),
                 lambda *a: getattr(torch.nn.functional, name)(*a, reduction=reduction, **kw),
                 inp, extras)
    np.testing.assert_allclose(s[0], t[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s[1], t[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("target", [LABELS, PROB])
def test_cross_entropy_weight_and_smoothing_match_torch(target, smoothing):
    s, t = _both(lambda x, y, w: F.cross_entropy(x, y, weight=w, label_smoothing=smoothing),
                 lambda x, y, w: torch.nn.functional.cross_entropy(x, y, weight=w,
                                                                   label_smoothing=smoothing),
                 X, [target, W])
    np.testing.assert_allclose(s[0], t[0], rtol=1e-5)
    np.testing.assert_allclose(s[1], t[1], rtol=1e-5, atol=1e-7)


def test_bce_weight_and_pos_weight_match_torch():
    s, t = _both(lambda x, y, w: F.binary_cross_entropy_with_logits(x, y, pos_weight=w, weight=w),
                 lambda x, y, w: torch.nn.functional.binary_cross_entropy_with_logits(
                     x, y, pos_weight=w, weight=w), X, [BIN, W])
    np.testing.assert_allclose(s[0], t[0], rtol=1e-5)
    np.testing.assert_allclose(s[1], t[1], rtol=1e-5, atol=1e-7)
    s, t = _both(lambda x, y, w: F.binary_cross_entropy(x, y, weight=w),
                 lambda x, y, w: torch.nn.functional.binary_cross_entropy(x, y, weight=w),
                 PROB, [BIN, W])
    np.testing.assert_allclose(s[0], t[0], rtol=1e-5)


def test_linear_forward_backward_matches_torch():
    ms, mt = nn.Linear(4, 3), torch.nn.Linear(4, 3)
    with torch.no_grad():
        mt.weight.copy_(torch.tensor(ms.weight.detach().numpy()))
        mt.bias.copy_(torch.tensor(ms.bias.detach().numpy()))
    s, t = _both(lambda x: ms(x).tanh(), lambda x: mt(x).tanh(), X, [])
    np.testing.assert_allclose(s[0], t[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s[1], t[1], rtol=1e-5, atol=1e-6)


def test_reprs_match_torch():
    def build(m):
        return m.Sequential(m.Linear(3, 2), m.ReLU(), m.Dropout(0.1),
                            m.Sequential(m.Linear(2, 1, bias=False), m.Sigmoid()), m.Flatten(),
                            m.Softmax(dim=1), m.LogSoftmax(dim=0), m.Identity(), m.Tanh(),
                            m.CrossEntropyLoss(), m.BCEWithLogitsLoss())
    assert repr(build(nn)) == repr(build(torch.nn))
    ps = nn.Parameter(stepjit.tensor([1.0, 2.5]))
    pt = torch.nn.Parameter(torch.tensor([1.0, 2.5]))
    assert repr(ps) == repr(pt)


def test_state_dict_keys_match_torch():
    class Net:
        def __init__(self, m):
            self.net = m.Sequential(m.Linear(3, 4), m.ReLU(), m.Sequential(m.Linear(4, 2)))
    assert list(Net(nn).net.state_dict()) == list(Net(torch.nn).net.state_dict())
    assert [n for n, _ in Net(nn).net.named_modules()] == \
        [n for n, _ in Net(torch.nn).net.named_modules()]


def _load_report(T, mutate, strict):
    """What load_state_dict says (return value or error text) for a module with shared
    children and every kind of buffer, after `mutate` edits its state_dict."""
    class M(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = T.nn.Linear(2, 2)
            self.b = self.a
            self.register_buffer("r", T.zeros(2))
            self.register_buffer("np_", T.ones(2), persistent=False)
            self.register_buffer("none", None)
    m = M()
    sd = dict(m.state_dict())
    mutate(T, sd)
    try:
        return repr(m.load_state_dict(sd, strict=strict))
    except (RuntimeError, TypeError) as e:
        return f"{type(e).__name__}: {e}".replace("torch.", "stepjit.")


def _extra_and_missing(T, sd):
    sd.update({"np_": T.ones(2), "a.extra": T.ones(1), "zz.q": T.ones(1)})
    del sd["r"]


def _wrong_values(T, sd):
    sd.update({"r": T.ones(3), "a.weight": 3.0})


@pytest.mark.parametrize("mutate", [lambda T, sd: None, _extra_and_missing, _wrong_values])
@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_reports_match_torch(mutate, strict):
    assert _load_report(stepjit, mutate, strict) == _load_report(torch, mutate, strict)
