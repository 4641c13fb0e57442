"""The fast call (stepjit/runtime/fastcall.py) checks every guard the tree walk checks.

Each scenario runs a step eagerly and compiled (cpu backend, the native program forced on and
off), changing one thing the trace assumed between calls once the fast call is in use: a
tensor's shape, dtype or requires_grad, whether a .grad exists, grad mode, a Python argument,
the argument structure, a lifted global tensor, an optimizer hyperparameter read every call
or one baked in. Results, parameters and .grad must match eager after every call.
"""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn.functional as F
from stepjit.runtime.fastcall import MISS, UNSURE
from stepjit.runtime.tree import clear_programs

from .helpers import assert_same, snapshot

CHANGE_AT = 12      # past the 8th-reuse re-verification: the fast call is in use
STEPS = 20


@pytest.fixture(autouse=True, params=["0", "1"], ids=["kernels", "native"])
def _native(request, monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", request.param)
    clear_programs()    # programs are shared by structural hash: build them in this mode
    yield


def _data(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def logistic_state():
    X = torch.from_numpy(_data(4, 2))
    y = torch.from_numpy((_data(4, 1, seed=1) > 0).astype(np.float32))
    w = torch.from_numpy(_data(2, 1, seed=2)).requires_grad_()
    b = torch.from_numpy(_data(1, seed=3)).requires_grad_()
    return {"X": X, "y": y, "w": w, "b": b, "lr": 0.1}


def logistic_step(X, y, w, b, lr):
    p = torch.sigmoid(X @ w + b)
    loss = F.binary_cross_entropy(p, y)
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        if b.grad is not None:
            b -= lr * b.grad
            b.grad.zero_()
        w.grad.zero_()
    return loss


def positional(step, s):
    return step(s["X"], s["y"], s["w"], s["b"], s["lr"])


def run(make_state, step, call, change, compiled):
    """Snapshots of STEPS calls; change(state) runs before call CHANGE_AT."""
    s = make_state()
    fn = torch.compile(step, backend="cpu") if compiled else step
    out = []
    for k in range(STEPS):
        if k == CHANGE_AT:
            change(s)
        result = call(fn, s)
        state = [t for t in s.values() if isinstance(t, torch.Tensor)]
        out.append(snapshot(result, state))
    return out, fn


def check(make_state, step, change, call=positional):
    eager, _ = run(make_state, step, call, change, compiled=False)
    got, fn = run(make_state, step, call, change, compiled=True)
    for k, (e, c) in enumerate(zip(eager, got)):
        assert e[3] == c[3], f"call {k}: result structure differs"
        for part in range(3):
            assert len(e[part]) == len(c[part])
            for x, y in zip(e[part], c[part]):
                assert_same(x, y, exact=False)
    return fn


def _resize(s):
    s["X"] = torch.from_numpy(_data(6, 2, seed=4))
    s["y"] = torch.from_numpy((_data(6, 1, seed=5) > 0).astype(np.float32))


def _float64(s):
    for k in ("X", "y", "w", "b"):
        t = torch.from_numpy(s[k].detach().numpy().astype(np.float64))
        s[k] = t.requires_grad_() if k in ("w", "b") else t


def _freeze_b(s):
    s["b"].requires_grad_(False)


def _drop_grad(s):
    s["w"].grad = None


def _lr(s):
    s["lr"] = 0.05


def _lr_int(s):
    s["lr"] = 1


def _resize_through_data(s):
    """The same tensor objects, other arrays: the fast call must not trust the last ones' shape."""
    s["X"].data = torch.from_numpy(_data(6, 2, seed=4))
    s["y"].data = torch.from_numpy((_data(6, 1, seed=5) > 0).astype(np.float32))


def _replace_data_same_shape(s):
    """New arrays of the same shape behind the same tensors: a native call that packed the old
    arrays' addresses must pack again (it would read and update the old ones)."""
    s["w"].data = torch.from_numpy(_data(2, 1, seed=6))
    s["X"].data = torch.from_numpy(_data(4, 2, seed=7))


def _strided_arrays(s):
    """Arrays of the traced shape in another layout: not packable, the program takes them."""
    s["X"].data = torch.from_numpy(np.asfortranarray(_data(4, 2, seed=7)))
    s["w"].data = torch.from_numpy(_data(2, 3, seed=6)[:, 1:2])


def _reshape_handed_out_arrays(s):
    """Arrays a user got from numpy() or gave to from_numpy() are theirs: reshaping them in place
    changes no tensor (PyTorch's semantics; the fast call checks shapes only of new arrays)."""
    s["X"].numpy().shape = (2, 4)
    w = s["w"].detach().numpy()
    w.shape = (1, 2)


@pytest.mark.parametrize("change", [_resize, _resize_through_data, _float64, _freeze_b, _drop_grad,
                                    _lr, _lr_int])
def test_changed_argument_matches_eager(change):
    fn = check(logistic_state, logistic_step, change)
    assert fn.stats()["traces"] >= 3     # the change was seen: a new trace


def _as_parameters(s):
    """Tensor subclasses where plain tensors were traced: the fast call's type() test fails and
    its isinstance test passes them."""
    for k in ("w", "b"):
        s[k] = torch.nn.Parameter(s[k].detach().clone())


def test_tensor_subclass_arguments_match_eager():
    check(logistic_state, logistic_step, _as_parameters)


@pytest.mark.parametrize("change", [_reshape_handed_out_arrays, _replace_data_same_shape,
                                    _strided_arrays])
def test_same_signature_new_arrays_match_eager(change):
    fn = check(logistic_state, logistic_step, change)
    assert fn.stats()["traces"] == 2     # nothing the trace assumed changed


def nested_step(params, batch, hyper):
    w, b = params
    p = torch.sigmoid(batch["X"] @ w + b)
    loss = F.binary_cross_entropy(p, batch["y"])
    loss.backward()
    with torch.no_grad():
        w -= hyper[0] * w.grad
        b -= hyper[0] * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return loss, [p]


def nested_call(step, s):
    return step((s["w"], s["b"]), {"X": s["X"], "y": s["y"]}, [s["lr"]])


@pytest.mark.parametrize("change", [_resize, _lr])
def test_nested_arguments_are_unpacked_and_checked(change):
    fn = check(logistic_state, nested_step, change, call=nested_call)
    assert fn.stats()["traces"] >= 3
    assert "= args" in fn.fast_sources()[0]      # the unpacking path was generated...
    s = logistic_state()
    change(s)
    walks = []
    tree_call = fn._tree_call
    fn._tree_call = lambda *a: walks.append(1) or tree_call(*a)
    for _ in range(20):
        nested_call(fn, s)
    assert len(walks) <= 5       # ...and serves the calls (re-verifications walk the tree)


def test_hot_trace_is_tried_first_and_calls_still_match_eager():
    """The steady trace's block comes before the first call's (no .grad yet), and a call
    that again has no .grad still takes the first call's trace."""
    def call(step, s):
        k = s["k"] = s.get("k", 0) + 1
        if k > 70 and k % 3 == 0:
            s["w"].grad = s["b"].grad = None        # zero_grad(set_to_none=True), now and then
        return positional(step, s)
    steps = STEPS
    try:
        globals()["STEPS"] = 90
        fn = check(logistic_state, logistic_step, lambda s: None, call=call)
    finally:
        globals()["STEPS"] = steps
    src = fn.fast_sources()[0]
    assert src.index("W_GRAD_LAST") < src.index("w.grad was None")     # steady block first


class _Seg:
    def __init__(self, uses, presence):
        self.uses = uses
        self.slots = [(k, _Spec(k, g)) for k, g in enumerate(presence)]


class _Spec:
    def __init__(self, k, grad_is_none):
        self.slot, self.grad_is_none = ("arg", k), grad_is_none


def test_roots_a_call_could_pass_both_keep_the_tree_order():
    from stepjit.runtime.fastcall import hottest_first
    cold, hot = _Seg(1, [True, None]), _Seg(50, [False, None])
    assert hottest_first([cold, hot]) == [hot, cold]           # exclusive: .grad None or not
    either = _Seg(50, [None, None])                            # does not look at .grad
    assert hottest_first([cold, either]) == [cold, either]


def test_results_of_earlier_calls_keep_their_values():
    """A native program stores its loss into one buffer per call site; each call's result must
    be its own array, not that buffer."""
    def losses(compiled):
        s = logistic_state()
        fn = torch.compile(logistic_step, backend="cpu") if compiled else logistic_step
        return [positional(fn, s) for _ in range(STEPS)]
    eager, got = losses(False), losses(True)
    np.testing.assert_allclose([t.item() for t in got], [t.item() for t in eager], rtol=1e-5)


def test_argument_structure_changes_to_keywords():
    def call(step, s):
        if "kw" in s:
            return step(s["X"], s["y"], s["w"], s["b"], lr=s["lr"])
        return positional(step, s)
    check(logistic_state, logistic_step, lambda s: s.update(kw=True), call=call)


def test_grad_mode_is_checked():
    def state():
        return {"x": torch.from_numpy(_data(3, 2)), "w": torch.from_numpy(_data(2, 2, seed=1))}

    def step(x, w):
        return (x @ w).sum(), torch.is_grad_enabled()

    def call(fn, s):
        if s.get("no_grad"):
            with torch.no_grad():
                return fn(s["x"], s["w"])
        return fn(s["x"], s["w"])
    check(state, step, lambda s: s.update(no_grad=True), call=call)


W = None


def global_step(x):
    loss = (x @ W).pow(2).mean()
    loss.backward()
    with torch.no_grad():
        W.sub_(0.1 * W.grad)
        W.grad.zero_()
    return loss


def global_state():
    global W
    W = torch.from_numpy(_data(2, 3, seed=1)).requires_grad_()
    return {"x": torch.from_numpy(_data(4, 2)), "W": W}


def _global_shape(s):
    with torch.no_grad():
        W.data = torch.from_numpy(_data(2, 5, seed=2))
    W.grad = None     # the old one has the old shape


def _global_dtype(s):
    s["x"] = torch.from_numpy(s["x"].numpy().astype(np.float64))
    with torch.no_grad():
        W.data = torch.from_numpy(W.detach().numpy().astype(np.float64))
    W.grad = None


def _global_grad_dropped(s):
    W.grad = None


@pytest.mark.parametrize("change", [_global_shape, _global_dtype, _global_grad_dropped])
def test_changed_lifted_global_matches_eager(change):
    check(global_state, global_step, change, call=lambda fn, s: fn(s["x"]))


def optimizer_state():
    torch.manual_seed(0)     # the eager and the compiled run start from the same model
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.0)
    return {"x": torch.from_numpy(_data(5, 3)), "y": torch.from_numpy(_data(5, 1, seed=1)),
            "model": model, "opt": opt, **dict(model.named_parameters())}


def optimizer_step(model, opt, x, y):
    opt.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    return loss


def _call_optimizer(fn, s):
    return fn(s["model"], s["opt"], s["x"], s["y"])


def _schedule_lr(s):
    s["opt"].param_groups[0]["lr"] = 0.02


def _weight_decay(s):
    s["opt"].param_groups[0]["weight_decay"] = 0.01


@pytest.mark.parametrize("change", [_schedule_lr, _weight_decay])
def test_changed_hyperparameter_matches_eager(change):
    fn = check(optimizer_state, optimizer_step, change, call=_call_optimizer)
    if change is _schedule_lr:
        assert fn.stats()["traces"] == 2   # read every call: no retrace (first call's + steady)


def test_steady_calls_take_the_fast_call():
    s = logistic_state()
    fn = torch.compile(logistic_step, backend="cpu")
    for _ in range(CHANGE_AT):
        positional(fn, s)
    walks = []
    tree_call = fn._tree_call
    fn._tree_call = lambda *a: walks.append(1) or tree_call(*a)
    for _ in range(40):      # reuses 11..50: no re-verification due
        positional(fn, s)
    assert walks == []
    assert fn.stats()["calls"] == CHANGE_AT + 40    # counted by the segments the fast call used
    sources = fn.fast_sources()
    assert len(sources) == 1 and all("def logistic_step_fast" in src for src in sources)


def test_the_first_fast_call_is_the_compiled_functions_own_call():
    """One frame per steady call: the generated function is the type's __call__, per compiled
    function; a signal it gives goes on to the tree walk as from the class's __call__."""
    from stepjit.runtime.compiled import CompiledFunction
    s, e = logistic_state(), logistic_state()
    fn = torch.compile(logistic_step, backend="cpu")
    other = torch.compile(logistic_step, backend="cpu")
    assert type(fn).__call__ is CompiledFunction.__call__       # nothing traced yet
    for _ in range(CHANGE_AT):
        positional(fn, s)
        positional(logistic_step, e)
    assert type(fn).__call__.__name__ == "logistic_step_fast0_call"
    assert type(other).__call__ is CompiledFunction.__call__     # not shared between functions
    assert isinstance(fn, CompiledFunction) and type(fn).__name__ == "CompiledFunction"
    s["lr"] = e["lr"] = 0.05    # a MISS (traced with 0.1): the tree walk takes the call
    got = [positional(fn, s), positional(fn, s)]
    want = [positional(logistic_step, e), positional(logistic_step, e)]
    for k in ("w", "b"):
        want.append(e[k])
        got.append(s[k])
    for a, b in zip(got, want):
        assert_same(a.detach().numpy(), b.detach().numpy(), exact=False)


def test_fast_call_leaves_reverification_to_the_tree_walk():
    s = logistic_state()
    fn = torch.compile(logistic_step, backend="cpu")
    for _ in range(80):
        positional(fn, s)
    assert fn.stats()["verifications"] == 3     # reuses 1, 8 and 64 of the steady trace
    root = fn.roots[-1]
    args = (s["X"], s["y"], s["w"], s["b"], s["lr"])
    root.verify_at = root.uses + 1
    assert fn._fast[0](args, {}) is UNSURE      # the tree walk re-verifies
    root.verify_at *= 8
    with torch.no_grad():
        assert fn._fast[0](args, {}) is MISS    # traced with grad on


def test_a_tensor_passed_twice_must_stay_one_tensor():
    def state():
        a = torch.from_numpy(_data(3))
        return {"a": a, "b": a}

    def step(x, y):
        x.add_(1.0)
        return x + y

    def apart(s):
        s["b"] = torch.from_numpy(_data(3, seed=1))
    check(state, step, apart, call=lambda fn, s: fn(s["a"], s["b"]))


def test_written_tensors_passed_apart_must_stay_apart():
    def state():
        return {"a": torch.from_numpy(_data(3)), "b": torch.from_numpy(_data(3, seed=1))}

    def step(x, y):
        x.mul_(2.0)
        y.add_(1.0)
        return x + y

    def alias(s):
        s["b"] = s["a"]
    check(state, step, alias, call=lambda fn, s: fn(s["a"], s["b"]))


def _hot(s, e):
    """A compiled logistic step whose fast call is in use, and the eager step run as often."""
    fn = torch.compile(logistic_step, backend="cpu")
    for _ in range(CHANGE_AT):
        positional(fn, s)
        positional(logistic_step, e)
    return fn


def test_fast_call_results_are_new_tensors_like_any_other():
    """The fast call builds its result with Tensor._make's stores written inline: each result is
    a plain detached tensor of its own (no grad_fn, its own version and array), as _make's."""
    from stepjit.tensor import Tensor
    s, e = logistic_state(), logistic_state()
    fn = _hot(s, e)
    assert "NEW(Tensor)" in fn.fast_sources()[0]
    got = [positional(fn, s) for _ in range(3)]
    want = [positional(logistic_step, e) for _ in range(3)]
    made = Tensor._make(np.zeros((), np.float32))
    for r, w in zip(got, want):
        assert type(r) is Tensor
        for name in Tensor.__slots__:
            if name not in ("_data", "_version", "__weakref__", "__dict__"):
                assert getattr(r, name) == getattr(made, name), name
        assert vars(r) == {}
        assert r.grad_fn is None and not r.requires_grad and r.is_leaf and r.grad is None
        assert r.dtype == torch.float32 and r.device == torch.device("cpu") and r.shape == ()
        assert r._version is not made._version and r._version.value == 0
        np.testing.assert_allclose(r.item(), w.item(), rtol=1e-5)
    first, second = got[0], got[1]
    assert first._version is not second._version
    assert not np.shares_memory(first.numpy(), second.numpy())
    before = second.item()
    first.add_(1.0)                         # a result is the caller's: writes stay in it
    assert first._version.value == 1 and second._version.value == 0 and second.item() == before
    third = positional(fn, s)               # nor does a later call write into earlier results
    assert second.item() == before and not np.shares_memory(third.numpy(), first.numpy())
    third.requires_grad_()
    (third * 2.0).backward()
    assert third.grad.item() == 2.0


def test_a_field_the_inline_result_cannot_write_falls_back_to_make(monkeypatch):
    """fresh_tensor_fields is read off Tensor._make: every slot, and None (the fast call calls
    _make) when a new tensor starts with something its inline stores could not write."""
    from stepjit.runtime import fastcall
    from stepjit.tensor import Tensor
    names = {n for n, _ in fastcall.fresh_tensor_fields()}
    assert names == set(Tensor.__slots__) - {"_data", "__weakref__", "__dict__"}
    make = Tensor._make.__func__

    def tagged(cls, data):
        t = make(cls, data)
        t.__dict__["tag"] = "made"
        return t
    monkeypatch.setattr(Tensor, "_make", classmethod(tagged))
    assert fastcall.fresh_tensor_fields() is None
    s, e = logistic_state(), logistic_state()
    fn = _hot(s, e)
    assert "NEW(Tensor)" not in fn.fast_sources()[0]
    r = positional(fn, s)
    assert r.tag == "made"
    np.testing.assert_allclose(r.item(), positional(logistic_step, e).item(), rtol=1e-5)


def test_the_entry_binds_no_keyword_to_its_positional_parameters():
    """The compiled function's __call__ takes the traced positional arguments as positional-only
    parameters named after the step's: a keyword of such a name, or fewer or more arguments,
    go on to the tree walk, which does what the step does eagerly."""
    import inspect
    s, e = logistic_state(), logistic_state()
    fn = _hot(s, e)
    params = list(inspect.signature(type(fn).__call__).parameters.values())[1:]
    assert [p.kind for p in params[:5]] == [inspect.Parameter.POSITIONAL_ONLY] * 5
    assert "X" in [p.name for p in params]
    X, y, w, b = s["X"], s["y"], s["w"], s["b"]
    for args, kwargs in [((X, y, w, b), {"X": X}), ((X, y, w, b), {}),
                         ((X, y, w, b, 0.1, 0.1), {}), ((X, y, w, b, 0.1), {"py": 0.1}),
                         ((X, y, w, b, 0.1), {"more": 1})]:
        with pytest.raises(TypeError) as eager:
            logistic_step(*args, **kwargs)
        with pytest.raises(TypeError) as compiled:
            fn(*args, **kwargs)
        assert str(compiled.value) == str(eager.value)
    got = [fn(X, y, w, b, lr=0.1), positional(fn, s)]
    want = [logistic_step(e["X"], e["y"], e["w"], e["b"], lr=0.1), positional(logistic_step, e)]
    for a, c in zip(got, want):
        np.testing.assert_allclose(a.item(), c.item(), rtol=1e-5)
    for k in ("w", "b"):
        assert_same(s[k].detach().numpy(), e[k].detach().numpy(), exact=False)
