"""A call's walk down the trace tree backtracks (runtime/walk.py).

A training loop's counter read by the step (`if it % 100 == 0: print(...)`, the evaluation
branch of a GPT lecture's loop) is guarded by value in the traces made before it changed
(that guard sits in the trace's leaf) and read symbolically after (a condition checked in the
first segment). With a data-dependent decision in the step (a batch cut at tensor positions),
the older trace admits every later call at its root and refuses it at its leaf: the walk must
go on to the newer trace instead of missing, and a miss must not take the older trace's
failed guard for a value that changes on every call. Each call is compared with eager."""
import stepjit as torch

from ..tracer.test_values import run_side_by_side

IT = 0


def _set_it(i, _):
    global IT
    IT = i


def _program(scale_of, printing):
    def make():
        w = torch.randn(3, 2, requires_grad=True)
        x = torch.randn(6, 3)

        def step():
            if IT == 0 and printing:
                print("evaluating at", IT)     # the first call's trace is for that call only
            rows = x[1:5] if x.sum() > -1e9 else x[:4]   # a decision: the trace has segments
            loss = ((rows @ w) * scale_of(IT)).pow(2).mean()
            loss.backward()
            with torch.no_grad():
                w.sub_(0.1 * w.grad)
                w.grad = None
            return loss
        return step, (), [w]
    return make


def _run(scale_of, printing=True, calls=12):
    try:
        return run_side_by_side(_program(scale_of, printing), calls, _set_it).stats()
    finally:
        _set_it(0, None)


def test_a_counter_read_after_a_printing_first_call_keeps_the_tree(capsys):
    st = _run(lambda it: 1.0)
    # the printing call, it == 1 (guarded by value), then one trace reading it symbolically
    assert (st["traces"], st["eager_calls"], st["fallbacks"], st["mode"]) == (3, 0, 0, "tree"), st


def test_a_branch_on_the_counter_taken_later_is_one_more_trace(capsys):
    st = _run(lambda it: 2.0 if it % 5 == 0 else 1.0, calls=14)
    # as above, and one trace for the branch's other outcome (it = 5, 10)
    assert (st["traces"], st["eager_calls"], st["fallbacks"], st["mode"]) == (4, 0, 0, "tree"), st
