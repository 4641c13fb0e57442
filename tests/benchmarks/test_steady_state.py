"""The harness times steady states: a variant that compiles as it runs ("stepjit compile")
is called until stepjit's runtime has promoted and built its programs before its first timed
call; the other variants get their plain warmup calls."""
from benchmarks import harness
from benchmarks.harness import STEADY_CALLS, Case, Variant, run_case


class _Counter:
    """A step that counts its calls and returns a constant loss."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self

    def item(self):
        return 1.0


def _case(counters):
    return Case(name="counted", description="counted calls", baseline="numpy",
                variants=[Variant(name, lambda c=c: c) for name, c in counters.items()])


def test_compiling_variants_are_marked_by_name():
    assert Variant("stepjit compile", lambda: None).settles
    assert Variant("stepjit compile, 2 threads", lambda: None).settles
    assert not Variant("stepjit eager", lambda: None).settles
    assert not Variant("jax.jit", lambda: None, settles=False).settles
    assert Variant("mine", lambda: None, settles=True).settles


def test_a_compiling_variant_runs_to_its_steady_state_before_it_is_timed(monkeypatch):
    from stepjit.runtime import tree
    counters = {"numpy": _Counter(), "stepjit compile": _Counter()}
    # the runtime reports a program settling for the first 3 checks (a native program built)
    answers = iter([True, True, True])
    monkeypatch.setattr(tree, "settling", lambda: next(answers, False))
    warmed = {}
    real_clock = harness.CLOCKS["wall"]

    def clock():      # the first timed call: how many calls each variant had by then
        if not warmed:
            warmed.update({n: c.calls for n, c in counters.items()})
        return real_clock()
    monkeypatch.setitem(harness.CLOCKS, "wall", clock)
    result = run_case(_case(counters), reps=2, inner=1, warmup=5)
    assert [t.variant for t in result.timings] == ["numpy", "stepjit compile"]
    # the agreement check's call, then: warmup only / STEADY_CALLS and 3 more while settling
    assert warmed == {"numpy": 1 + 5, "stepjit compile": 1 + STEADY_CALLS + 3}


def test_without_a_compiling_variant_the_runtime_is_not_asked(monkeypatch):
    from stepjit.runtime import tree

    def settling():
        raise AssertionError("asked")
    monkeypatch.setattr(tree, "settling", settling)
    counters = {"numpy": _Counter(), "stepjit eager": _Counter()}
    run_case(_case(counters), reps=1, inner=1, warmup=2)
    assert {n: c.calls for n, c in counters.items()} == {"numpy": 1 + 2 + 1, "stepjit eager": 1 + 2 + 1}
