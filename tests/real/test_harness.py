"""The harness's rewrite (harness.py): the rewritten program does what the original did.

Each case runs a small program twice with plain Python (a stand-in `.backward()` that counts
calls, no tensors): as written, and rewritten with a recording `__real_after__`; both must
leave the same values behind (but for the names the step keeps local, which nothing after
the loop reads) and make the same calls, and the
rewritten one must have recorded the probe after every step.
"""
import ast
import textwrap

import pytest

from tests.real import harness

PRELUDE = """
class L:
    calls = 0
    def __init__(self, v):
        self.v = v
    def backward(self):
        L.calls += 1
    def __float__(self):
        return float(self.v)
    def __eq__(self, other):
        return getattr(other, "v", None) == self.v
"""


def _rewritten(src, probe=None):
    tree = ast.parse(src)
    harness.rewrite(tree, probe)
    return tree


def run_both(body, probe="loss", lines=None):
    src = PRELUDE + textwrap.dedent(body)
    plain = {}
    exec(compile(src, "<plain>", "exec"), plain)
    tree = ast.parse(src)
    harness.rewrite(tree, probe, lines)
    recorded = []
    rewritten = {"__real_wrap__": lambda fn, line: fn,
                 "__real_after__": lambda line, r: recorded.append(r[1]) or r}
    exec(compile(tree, "<rewritten>", "exec"), rewritten)
    for name, value in plain.items():   # a name the step keeps local does not outlive it
        plain_value = isinstance(value, (int, float, str, list)) or type(value).__name__ == "L"
        if not name.startswith("__") and plain_value and name in rewritten:
            assert rewritten[name] == value, name
    assert rewritten["L"].calls == plain["L"].calls
    return plain, [None if r is None else float(r) for r in recorded]


def test_module_loop_locals_and_rebound_state():
    plain, rec = run_both("""
        total = 0.0
        for t in range(5):
            loss = L(t * 2)
            total += float(loss)
            loss.backward()
    """)
    assert plain["total"] == 20.0 and rec == [0, 2, 4, 6, 8]


def test_loop_carried_name_is_shared():
    plain, rec = run_both("""
        for t in range(4):
            if t == 0:
                h = 1
            h = h * 3
            loss = L(h)
            loss.backward()
    """)
    assert rec == [3, 9, 27, 81]


def test_break_continue_and_else():
    plain, rec = run_both("""
        seen = []
        for t in range(10):
            loss = L(t)
            if t % 2:
                continue
            loss.backward()
            for k in range(3):       # break/continue here belong to the inner loop
                if k == 1:
                    break
            seen.append(t)
            if t == 6:
                break
        else:
            seen.append('else')
    """)
    assert plain["seen"] == [0, 2, 4, 6] and rec == [0, 1, 2, 3, 4, 5, 6]


def test_while_loop_and_return_inside_function():
    plain, rec = run_both("""
        def train(n):
            step = 0
            while True:
                loss = L(step)
                loss.backward()
                step += 1
                if step == n:
                    return step * 10
        out = train(3)
    """)
    assert plain["out"] == 30 and rec == [0, 1, 2]


def test_outer_epoch_loop_is_not_a_training_loop():
    plain, rec = run_both("""
        losses = []
        for epoch in range(2):
            for i in range(3):
                loss = L(epoch * 10 + i)
                loss.backward()
            losses.append(float(loss))
    """)
    assert plain["losses"] == [2.0, 12.0] and rec == [0, 1, 2, 10, 11, 12]


def test_a_method_local_of_the_same_name_is_another_variable():
    src = PRELUDE + textwrap.dedent("""
        class Model:
            def forward(self, x):
                y_pred = x * 2          # forward's own local
                return y_pred
        model = Model()
        for t in range(3):
            y_pred = model.forward(t)
            loss = L(y_pred)
            loss.backward()
    """)
    tree = ast.parse(src)
    harness.rewrite(tree)
    step = next(n for n in tree.body if isinstance(n, ast.FunctionDef)
                and n.name.startswith("__real_step"))
    assert not any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in step.body)
    run_both(src[len(PRELUDE):])


def test_loop_named_by_line_and_missing_probe():
    src = PRELUDE + "for t in range(3):\n    x = L(t)\n"
    harness.rewrite(ast.parse(src), probe=None, lines=[src.count("\n", 0, src.index("for t"))
                                                       + 1])
    with pytest.raises(harness.HarnessError, match="no training loop"):
        harness.rewrite(ast.parse(src))
    with pytest.raises(harness.HarnessError, match="never binds the probe"):
        harness.rewrite(ast.parse(PRELUDE + "for t in range(3):\n    L(t).backward()\n"))


def test_torch_imports_put_back():
    assert harness._torch_import("import stepjit as torch") == "import torch"
    assert harness._torch_import("import stepjit.nn as nn") == "import torch.nn as nn"
    assert harness._torch_import("from stepjit.utils.data import DataLoader") == \
        "from torch.utils.data import DataLoader"
    assert harness._torch_import("x = stepjit") == "x = stepjit"


def test_inner_for_target_stays_local_inside_a_function():
    """`for p in params: ...` in a function's training loop binds p afresh each step: it is
    the step's local, not a nonlocal of the function (which has no p to bind to)."""
    plain, rec = run_both("""
        def train(steps):
            total = 0.0
            for i in range(steps):
                loss = L(i)
                loss.backward()
                for p in (1.0, 2.0):
                    total += p * float(loss)
            return total
        result = train(3)
    """)
    assert plain["result"] == 9.0 and rec == [0, 1, 2]


def test_conditionally_bound_name_inside_a_function_is_the_steps_local():
    """`if ...: loss, current = loss.item(), ...` in a function's training loop: `current`
    has no binding in the function outside the loop, so it cannot be the step's nonlocal."""
    plain, rec = run_both("""
        def train(steps):
            seen = []
            for batch in range(steps):
                loss = L(batch)
                loss.backward()
                if batch % 2 == 0:
                    loss, current = float(loss), batch * 10
                    seen.append(current)
            return seen
        result = train(4)
    """)
    assert plain["result"] == [0, 20] and rec == [0, 1, 2, 3]


def test_name_only_read_after_the_loop_inside_a_function():
    """`out` is bound only in the loop body and read after the loop: the step must write it
    back (nonlocal) though the function has no other binding of it."""
    plain, rec = run_both("""
        def train(steps):
            for i in range(steps):
                out = L(i)
                out.backward()
                if i == steps - 1:
                    out = float(out) * 2
            return out
        result = train(3)
    """, probe=None)
    assert plain["result"] == 4.0


def test_name_only_read_after_a_loop_that_never_ran_is_unbound():
    """The dead store binds nothing at run time: with no step run, reading the name still
    raises as the original program does."""
    src = PRELUDE + textwrap.dedent("""
        def train(steps):
            for i in range(steps):
                out = L(i)
                out.backward()
            return out
    """)
    for tree in (ast.parse(src), _rewritten(src)):
        scope = {"__real_wrap__": lambda fn, line: fn, "__real_after__": lambda line, r: r}
        exec(compile(tree, "<t>", "exec"), scope)
        assert scope["train"](2) == scope["L"](1)
        with pytest.raises(UnboundLocalError):
            scope["train"](0)
