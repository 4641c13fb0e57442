"""torch.jit as a pass-through: script/trace give back the object itself, and a scripted
model trains (eagerly and compiled) exactly as the unscripted one; save/load say why not."""
import pytest

import stepjit


def test_script_and_trace_return_their_argument():
    model = stepjit.nn.Linear(2, 1)
    fn = lambda x: x * 2   # noqa: E731
    assert stepjit.jit.script(model) is model
    assert stepjit.jit.trace(fn, (stepjit.ones(2),)) is fn
    assert stepjit.jit.trace_module(model, {"forward": stepjit.ones(2)}) is model
    assert not stepjit.jit.is_scripting() and not stepjit.jit.is_tracing()


def test_decorators_leave_functions_unchanged():
    def f(x):
        return x + 1
    assert stepjit.jit.ignore(f) is f and stepjit.jit.unused(f) is f
    assert stepjit.jit.export(f) is f and stepjit.jit.ignore(drop=True)(f) is f
    assert stepjit.jit.script(f) is f


def test_scripted_model_compiles_in_a_step():
    stepjit.manual_seed(0)
    model = stepjit.jit.script(stepjit.nn.Linear(3, 1))
    opt = stepjit.optim.SGD(model.parameters(), lr=0.1)

    @stepjit.compile
    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    x, y = stepjit.ones(4, 3), stepjit.zeros(4, 1)
    first = step(x, y).item()
    assert step(x, y).item() < first


def test_save_and_load_explain_there_is_no_torchscript():
    with pytest.raises(NotImplementedError, match="state_dict"):
        stepjit.jit.save(stepjit.nn.Linear(1, 1), "m.pt")


def test_compiler_disable_marks_a_function_a_compiled_step_still_traces():
    import stepjit as sj
    w = sj.tensor([1.0, 2.0], requires_grad=True)

    @sj.compiler.disable
    def penalty(x):
        return (x * x).sum()

    @sj.compiler.disable(recursive=False)
    def scale(x):
        return x * 3.0

    step = sj.compile(lambda: scale(penalty(w)), backend="interpret")
    for _ in range(3):
        out = step()
        assert out.item() == 15.0
    out.backward()
    assert w.grad.tolist() == [6.0, 12.0]
    assert step.stats()["fallbacks"] == 0


def test_what_a_script_module_has_and_a_module_lacks_is_refused_clearly():
    model = stepjit.nn.Linear(2, 1)
    scripted = stepjit.jit.script(model)
    with pytest.raises(NotImplementedError, match="cannot write or show TorchScript; save its "
                                                  "state_dict with stepjit.save"):
        scripted.save("model.pt")
    with pytest.raises(NotImplementedError, match="has no 'code'"):
        stepjit.jit.trace(model, stepjit.ones(1, 2)).code
    assert not hasattr(scripted, "graph")
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'save'"):
        stepjit.nn.Linear(2, 1).save("model.pt")   # not scripted: Python's own error
