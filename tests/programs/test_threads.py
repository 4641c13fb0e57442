"""The thread count of a compiled program (stepjit/programs/threads.py): the choice between one
thread and the pools' size follows the program's own call times, the pools are set around
its calls and put back, the user's count wins, and the results are eager's whatever the count."""
import numpy as np
import pytest

import stepjit as torch
from stepjit import config
from stepjit import threads as user_threads
from stepjit.codegen import blas
from stepjit.programs import threads
from stepjit.programs.threads import (FIRST_INTERVAL, MAX_INTERVAL, PROBE_CALLS, WIDE_INTERVAL,
                                      ThreadChoice)
from stepjit.runtime import tree


def drive(choice, seconds, calls):
    """Run `calls` calls through the choice, each taking seconds(n) for its count n; the counts."""
    counts = []
    for _ in range(calls):
        n = choice.count()
        counts.append(n)
        choice.record(n, seconds(n))
    return counts


def test_a_slower_wide_count_is_tried_rarely_and_never_kept():
    choice = ThreadChoice(2)
    counts = drive(choice, lambda n: 1.0 if n == 1 else 25.0, 20000)
    assert counts[:FIRST_INTERVAL] == [1] * FIRST_INTERVAL
    wide = [i for i, n in enumerate(counts) if n == 2]
    # each try is one call (it lost), and the waits double up to the cap
    gaps = np.diff(wide)
    assert all(b >= a for a, b in zip(gaps, gaps[1:]))
    assert gaps[-1] == MAX_INTERVAL + 1 and len(wide) <= 12
    assert choice.current == 1


def test_a_faster_wide_count_is_taken_and_left_when_it_turns_slow():
    choice = ThreadChoice(2)
    counts = drive(choice, lambda n: 1.0 if n == 1 else 0.6, 200)
    assert choice.current == 2
    assert counts.index(2) == FIRST_INTERVAL          # the first try, after FIRST_INTERVAL calls
    assert counts[FIRST_INTERVAL:FIRST_INTERVAL + PROBE_CALLS] == [2] * PROBE_CALLS
    later = counts[FIRST_INTERVAL + PROBE_CALLS:]
    # on two threads, one thread is tried every WIDE_INTERVAL calls
    assert later.count(1) <= len(later) // WIDE_INTERVAL + 1 and later.count(1) >= 3
    # the machine gets busy: two threads now take 10x; back on one thread within a few tries
    counts = drive(choice, lambda n: 1.0 if n == 1 else 10.0, 2 * WIDE_INTERVAL + 2 * PROBE_CALLS)
    assert choice.current == 1 and counts[-1] == 1


def test_one_noisy_call_does_not_lose_a_try_that_wins_on_its_median():
    choice = ThreadChoice(2)
    wide = iter([0.5, 1.5, 0.5] + [0.5] * 100)
    drive(choice, lambda n: 1.0 if n == 1 else next(wide), FIRST_INTERVAL + PROBE_CALLS)
    assert choice.current == 2


def test_a_margin_too_small_keeps_one_thread():
    choice = ThreadChoice(2)
    drive(choice, lambda n: 1.0 if n == 1 else 0.95, 500)
    assert choice.current == 1


def test_threads_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("STEPJIT_THREADS", "3")
    assert config.threads() == 3
    monkeypatch.setenv("STEPJIT_THREADS", "")
    assert config.threads() is None
    monkeypatch.setenv("STEPJIT_THREADS", "two")
    with pytest.raises(ValueError, match="STEPJIT_THREADS"):
        config.threads()


class FakeBlas:
    """OpenBLAS's (get, set) pair, recording what a program set."""

    def __init__(self, size):
        self.value, self.seen = size, []

    def get(self):
        return self.value

    def set(self, n):
        self.value = n
        self.seen.append(n)


def test_the_chooser_sets_the_pool_around_each_call_and_puts_it_back(monkeypatch):
    fake = FakeBlas(2)
    monkeypatch.setattr(threads, "blas_threads", lambda: (fake.get, fake.set))
    inside = []
    chooser = threads.chooser(blas=True, loops=False)
    run = threads.wrap(lambda x: inside.append(fake.value) or x + 1, chooser)
    assert [run(k) for k in range(3)] == [1, 2, 3]
    assert inside == [1, 1, 1] and fake.value == 2       # one thread inside, 2 again after
    monkeypatch.setattr(user_threads, "_REQUESTED", 2)    # stepjit.set_num_threads(2)
    run(0)
    assert inside[-1] == 2 and fake.value == 2
    fake.value = 1                                         # OPENBLAS_NUM_THREADS=1: as it is
    monkeypatch.setattr(user_threads, "_REQUESTED", None)
    fresh = threads.wrap(lambda: fake.value, threads.chooser(blas=True, loops=False))
    assert fresh() == 1 and fake.value == 1


def test_small_programs_get_no_chooser():
    assert threads.chooser(blas=False, loops=False) is None
    assert threads.wrap(len, None) is len


# -- a compiled step whose matmuls OpenBLAS splits: eager's values on any thread count --------

N, D_IN, H, D_OUT = 64, 96, 64, 8         # the first matmul: 393216 MACs, split by OpenBLAS
assert N * D_IN * H >= threads.BLAS_THREADS_MIN_MACS


def mlp_step(x, y, w1, w2):
    loss = ((x @ w1).relu() @ w2 - y).pow(2).mean()
    loss.backward()
    with torch.no_grad():
        for w in (w1, w2):
            w -= 0.01 * w.grad
            w.grad = None
    return loss


def state():
    rng = np.random.default_rng(3)
    x, y, w1, w2 = (torch.from_numpy(rng.standard_normal(s).astype(np.float32))
                    for s in ((N, D_IN), (N, D_OUT), (D_IN, H), (H, D_OUT)))
    return x, y, w1.requires_grad_(), w2.requires_grad_()


def train(step, calls, count=None):
    x, y, w1, w2 = state()
    losses = []
    for _ in range(calls):
        user_threads._REQUESTED = count
        losses.append(step(x, y, w1, w2).item())
    user_threads._REQUESTED = None
    return losses, w1.detach().numpy().copy(), w2.detach().numpy().copy()


@pytest.fixture
def native_now(monkeypatch):
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    tree.clear_programs()
    yield
    tree.clear_programs()
    user_threads._REQUESTED = None


@pytest.mark.skipif(blas.thread_functions() is None, reason="NumPy's BLAS is not OpenBLAS")
@pytest.mark.parametrize("count", [None, 1, 2])
def test_native_step_with_a_split_matmul_matches_eager_on_any_thread_count(native_now, count):
    get, _ = blas.thread_functions()
    before = get()
    want = train(mlp_step, 40)
    fn = torch.compile(mlp_step)
    got = train(fn, 40, count)
    program = fn.roots[-1].program
    assert program.native is not None
    entry = program.native.packed
    assert isinstance(entry, threads.Threaded), "the program's thread count is chosen per call"
    assert entry.fastest().func == entry.chooser.run    # also what the fast call holds once run
    assert get() == before, "the pool's setting is put back after each call"
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    if count is None and before > 1:
        assert entry.chooser.choice is not None and entry.chooser.choice.wide == before
