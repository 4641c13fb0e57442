"""Generator objects, generator= everywhere, and the random forms PyTorch programs call:
multinomial, every form of normal, bernoulli with p, randint_like, rand/randn keyword forms,
the in-place draws. Values cannot match PyTorch's bit streams, so distributions are checked
statistically; signatures, shapes, dtypes and errors follow PyTorch (optional oracle below)."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn


def _draws(g):
    """One of every draw that takes generator=, as NumPy arrays."""
    x = torch.zeros(2, 3)
    p = torch.tensor([[0.1, 0.0, 0.9], [1.0, 1.0, 1.0]])
    out = [torch.rand(2, 3, generator=g), torch.randn(size=(4,), generator=g),
           torch.randint(2, 9, (3,), generator=g), torch.randperm(5, generator=g),
           torch.normal(0.0, 2.0, (3,), generator=g), torch.normal(x, 1.0, generator=g),
           torch.multinomial(p, 4, True, generator=g), torch.multinomial(p, 2, generator=g),
           torch.bernoulli(torch.full((5,), 0.5), generator=g),
           torch.bernoulli(x, 0.3, generator=g), torch.rand_like(x, generator=g),
           torch.randn_like(x, generator=g), torch.randint_like(x, 4, generator=g),
           torch.zeros(3).uniform_(-1, 1, generator=g), torch.zeros(3).normal_(generator=g),
           torch.zeros(3).bernoulli_(0.5, generator=g), torch.zeros(3).random_(7, generator=g),
           torch.zeros(3).exponential_(2.0, generator=g),
           nn.init.kaiming_uniform_(torch.zeros(2, 3), generator=g)]
    return [t.detach().numpy() for t in out]


def test_a_generator_is_its_own_stream():
    torch.manual_seed(5)
    before = torch.get_rng_state().tolist()
    a = _draws(torch.Generator().manual_seed(123))
    b = _draws(torch.Generator().manual_seed(123))
    assert torch.get_rng_state().tolist() == before   # the default generator did not move
    c = _draws(torch.Generator().manual_seed(124))
    for x, y, z in zip(a, b, c):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    assert sum(not np.array_equal(x, z) for x, z in zip(a, c)) >= len(a) - 3


def test_generator_api():
    g = torch.Generator()
    assert g.device == torch.device("cpu") and g.manual_seed(7) is g and g.initial_seed() == 7
    assert torch.Generator().manual_seed(-1).initial_seed() == 2 ** 64 - 1   # as PyTorch
    state = g.get_state()
    first = torch.rand(3, generator=g)
    g.set_state(state)
    assert torch.rand(3, generator=g).tolist() == first.tolist()
    s = g.seed()
    assert g.initial_seed() == s and isinstance(s, int)
    with pytest.raises(TypeError, match="manual_seed expected a long, but got float"):
        g.manual_seed(1.5)
    with pytest.raises(ValueError, match="Overflow"):
        g.manual_seed(2 ** 64)
    with pytest.raises(TypeError, match="RNG state must be"):
        g.set_state(torch.zeros(3))
    assert torch.default_generator.manual_seed(3) is torch.default_generator


def test_rand_and_randn_keyword_forms():
    assert torch.rand(size=(2, 3)).shape == (2, 3) and torch.randn([4]).shape == (4,)
    t = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    assert t.dtype == torch.float64 and t.requires_grad and t.is_leaf
    assert torch.rand([]).shape == () and torch.rand(0, 3).shape == (0, 3)
    assert torch.randint(low=3, high=10, size=(50,)).min().item() >= 3
    assert torch.randint(10, (2,), dtype=torch.float32).dtype == torch.float32
    with pytest.raises(TypeError, match="size"):
        torch.rand()
    with pytest.raises(TypeError):
        torch.rand(2, size=(3,))
    with pytest.raises(RuntimeError, match=r"negative dimension -1: \[-1\]"):
        torch.rand(-1)
    with pytest.raises(RuntimeError, match="'from' to be less than 'to', but got from=10 >= to=3"):
        torch.randint(10, 3, (2,))


def test_every_form_of_normal():
    zeros, ones = torch.zeros(2, 1), torch.ones(3)
    assert torch.normal(zeros, ones).shape == (2, 3)             # broadcast
    assert torch.normal(torch.zeros(3), 1.0).shape == (3,)
    assert torch.normal(0.0, torch.ones(3, dtype=torch.float64)).dtype == torch.float64
    assert torch.normal(torch.zeros(2, dtype=torch.float64), ones[:2]).dtype == torch.float64
    t = torch.normal(2, 3, size=(1, 4), dtype=torch.float64, requires_grad=True)
    assert t.shape == (1, 4) and t.dtype == torch.float64 and t.requires_grad and t.is_leaf
    mean = torch.zeros(4, requires_grad=True)
    std = torch.ones(4, requires_grad=True)
    y = torch.normal(mean, std)
    y.sum().backward()                      # PyTorch: no gradient flows into mean or std
    assert y.requires_grad and mean.grad.tolist() == [0.0] * 4 and std.grad.tolist() == [0.0] * 4
    big = torch.normal(torch.full((20000,), 3.0), 2.0).numpy()
    assert abs(big.mean() - 3.0) < 0.05 and abs(big.std() - 2.0) < 0.05
    with pytest.raises(TypeError):
        torch.normal(0.0, 1.0)
    with pytest.raises(TypeError):
        torch.normal(torch.zeros(2), 1.0, size=(2,))
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std -1"):
        torch.normal(0.0, -1.0, (2,))
    with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
        torch.normal(torch.zeros(2), torch.tensor([-1.0, 1.0]))
    with pytest.raises(RuntimeError, match="normal_kernel_cpu"):
        torch.normal(torch.zeros(2, dtype=torch.int64), 1.0)


def test_multinomial_frequencies_and_shapes():
    w = torch.tensor([1.0, 0.0, 3.0, 4.0])
    x = torch.multinomial(w, 40000, replacement=True).numpy()
    assert x.dtype == np.int64 and x.shape == (40000,)
    freq = np.bincount(x, minlength=4) / 40000
    assert freq[1] == 0 and np.allclose(freq, [0.125, 0, 0.375, 0.5], atol=0.01)
    rows = torch.multinomial(torch.tensor([[1.0, 2.0, 3.0, 4.0]] * 20000), 2).numpy()
    assert rows.shape == (20000, 2) and (rows[:, 0] != rows[:, 1]).all()
    # Weighted sampling without replacement: P(first = k) = p_k;
    # P(second = 0) = sum_j p_j p_0 / (1 - p_j) = 0.1345 for weights 1..4.
    assert np.allclose(np.bincount(rows[:, 0]) / 20000, [0.1, 0.2, 0.3, 0.4], atol=0.012)
    assert abs(np.mean(rows[:, 1] == 0) - 0.1345) < 0.012
    perm = torch.multinomial(torch.ones(6), 6).numpy()
    assert sorted(perm.tolist()) == list(range(6))
    assert torch.tensor([0.2, 0.8]).multinomial(3, True).shape == (3,)


BAD_DRAWS = [   # (call with the torch-like module T, PyTorch 2.13's error text)
    (lambda T: T.multinomial(T.tensor([0.2, 0.8]), 3),
     "cannot sample n_sample > prob_dist.size(-1) samples without replacement"),
    (lambda T: T.multinomial(T.tensor([0.2, 0.8]), 0), "cannot sample n_sample <= 0 samples"),
    (lambda T: T.multinomial(T.ones(2, 2, 2), 1), "prob_dist must be 1 or 2 dim"),
    (lambda T: T.multinomial(T.tensor([1, 2]), 1),
     "multinomial only supports floating-point dtypes for input, got: Long"),
    (lambda T: T.multinomial(T.tensor([1.0, -1.0]), 1),
     "probability tensor contains either `inf`, `nan` or element < 0"),
    (lambda T: T.multinomial(T.tensor([1.0, float("nan")]), 1),
     "probability tensor contains either `inf`, `nan` or element < 0"),
    (lambda T: T.multinomial(T.tensor([0.0, 0.0]), 1),
     "invalid multinomial distribution (sum of probabilities <= 0)"),
    (lambda T: T.bernoulli(T.full((3,), 1.5)),
     "Expected p_in >= 0 && p_in <= 1 to be true, but got false."),
    (lambda T: T.bernoulli(T.full((3,), 0.5), p=1.5),
     "bernoulli_ expects p to be in [0, 1], but got p=1.5"),
    (lambda T: T.zeros(2).exponential_(0.0), "exponential_ expects lambda > 0.0"),
    (lambda T: T.normal(0.0, -1.0, (2,)), "normal expects std >= 0.0, but found std -1"),
    (lambda T: T.randint(10, 3, (2,)),
     "random_ expects 'from' to be less than 'to', but got from=10 >= to=3"),
    (lambda T: T.rand(-1), "Trying to create tensor with negative dimension -1: [-1]"),
]


@pytest.mark.parametrize("i", range(len(BAD_DRAWS)))
def test_bad_draws_raise_pytorchs_errors(i):
    call, text = BAD_DRAWS[i]
    with pytest.raises(RuntimeError) as info:
        call(torch)
    assert text in str(info.value)


def test_bernoulli_with_p_and_in_place_draws():
    b = torch.bernoulli(torch.zeros(20000), 0.3)
    assert b.dtype == torch.float32 and abs(b.mean().item() - 0.3) < 0.015
    i = torch.bernoulli(torch.zeros(3, dtype=torch.int64), 0.5)
    assert i.dtype == torch.int64 and set(i.tolist()) <= {0, 1}
    probs = torch.tensor([0.0, 1.0, 0.0, 1.0])
    assert torch.bernoulli(probs).tolist() == [0.0, 1.0, 0.0, 1.0]
    r = torch.zeros(10000, dtype=torch.int64).random_(3, 8)
    assert r.min().item() == 3 and r.max().item() == 7
    assert torch.randint_like(torch.zeros(5, dtype=torch.int32), 3, 10).dtype == torch.int32
    e = torch.zeros(20000).exponential_(2.0)
    assert e.min().item() >= 0 and abs(e.mean().item() - 0.5) < 0.02


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_compiled_steps_draw_the_eager_numbers(backend):
    """Every form above inside one compiled step: the eager numbers bit for bit, from a
    Generator and from the default generator, with one trace for every call."""
    g = torch.Generator()

    def step(x, w):
        return (torch.multinomial(w, 5, True, generator=g), torch.multinomial(w, 3),
                torch.normal(x, 2.0), torch.normal(0.0, 1.0, (2,), generator=g),
                torch.bernoulli(x.sigmoid()), torch.bernoulli(x, 0.25, generator=g),
                torch.randint_like(x, 9), torch.rand(size=(2,), generator=g) * x.sum())

    def run(fn):
        torch.manual_seed(3)
        g.manual_seed(11)
        x, w = torch.ones(2, 3), torch.tensor([[0.5, 0.0, 1.0, 2.0], [1.0, 1.0, 1.0, 1.0]])
        return [[t.numpy() for t in fn(x, w)] for _ in range(3)]

    compiled = torch.compile(step, backend=backend)
    for e, c in zip(run(step), run(compiled)):
        for a, b in zip(e, c):
            assert a.dtype == b.dtype and np.array_equal(a, b)
    assert compiled.stats()["traces"] == 1


# -- optional oracle: PyTorch itself raises the same errors for the same calls ------------------
@pytest.mark.parametrize("i", range(len(BAD_DRAWS)))
def test_bad_draw_errors_match_torch(i):
    real = pytest.importorskip("torch")
    call, text = BAD_DRAWS[i]
    with pytest.raises(RuntimeError) as info:
        call(real)
    assert text in str(info.value)


def test_fork_rng_restores_the_stream_after_its_block():
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    with torch.random.fork_rng(devices=[]):
        inside = torch.randn(10)
    assert torch.equal(torch.rand(4), expected)
    torch.manual_seed(3)
    with torch.random.fork_rng(enabled=False):
        torch.randn(10)
    assert not torch.equal(torch.rand(4), expected)
    torch.manual_seed(3)
    try:
        with torch.random.fork_rng():
            torch.rand(2)
            raise KeyError("leaves the block")
    except KeyError:
        pass
    assert torch.equal(torch.rand(4), expected) and inside.shape == (10,)
