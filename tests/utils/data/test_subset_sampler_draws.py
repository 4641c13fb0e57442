"""SubsetRandomSampler draws its order as PyTorch's does: one randperm(len(indices)) from its
generator, the default generator when it has none (RandomSampler instead seeds a fresh
generator from the default one). A program that splits a training set with it (CS231n's
`sampler.SubsetRandomSampler(range(NUM_TRAIN))`) then sees the same default-generator stream
after each pass as under PyTorch: weights drawn next are the same."""
import stepjit
from stepjit.utils.data import DataLoader, SubsetRandomSampler, TensorDataset


def test_the_order_is_a_permutation_drawn_from_the_default_generator():
    stepjit.manual_seed(3)
    order = list(SubsetRandomSampler([10, 11, 12, 13, 14, 15]))
    after = stepjit.randn(4)
    stepjit.manual_seed(3)
    perm = stepjit.randperm(6).tolist()
    assert order == [10 + i for i in perm]
    assert stepjit.equal(stepjit.randn(4), after)


def test_a_given_generator_leaves_the_default_stream_alone():
    g = stepjit.Generator().manual_seed(7)
    stepjit.manual_seed(3)
    order = list(SubsetRandomSampler(range(6), generator=g))
    after = stepjit.randn(4)
    stepjit.manual_seed(3)
    assert stepjit.equal(stepjit.randn(4), after)
    assert order == stepjit.randperm(6, generator=stepjit.Generator().manual_seed(7)).tolist()


def test_each_pass_of_a_loader_draws_its_seed_then_the_order():
    """A DataLoader's pass draws its workers' base seed first (PyTorch's _get_shared_seed),
    then the sampler its permutation."""
    data = TensorDataset(stepjit.arange(8.0))
    stepjit.manual_seed(0)
    loader = DataLoader(data, batch_size=4, sampler=SubsetRandomSampler(range(8)))
    first = [b[0].tolist() for b in loader]
    second = [b[0].tolist() for b in loader]
    stepjit.manual_seed(0)
    seed = lambda: stepjit.empty((), dtype=stepjit.int64).random_()  # noqa: E731
    seed()
    p1 = stepjit.randperm(8).tolist()
    seed()
    p2 = stepjit.randperm(8).tolist()
    assert sum(first, []) == [float(i) for i in p1]
    assert sum(second, []) == [float(i) for i in p2]
