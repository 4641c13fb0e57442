"""DistributedSampler's split, in one process (num_replicas and rank given), against
PyTorch's rules: every index once per epoch (padded by repeating from the start, or cut
with drop_last), the same permutation on every rank, a new one per epoch."""
import pytest

import stepjit.distributed as dist
from stepjit.distributed import DistributedSampler


def split(n, replicas, **kw):
    return [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, **kw))
            for r in range(replicas)]


@pytest.mark.parametrize("n,replicas", [(10, 2), (10, 3), (7, 4), (2, 4), (12, 4)])
def test_each_index_once_padded_from_the_start(n, replicas):
    parts = split(n, replicas, shuffle=False)
    per = -(-n // replicas)
    assert all(len(p) == per for p in parts)
    flat = [parts[r][i] for i in range(per) for r in range(replicas)]  # interleaved back
    assert flat == [i % n for i in range(per * replicas)]


@pytest.mark.parametrize("n,replicas", [(10, 3), (7, 4), (12, 4)])
def test_drop_last_cuts_to_a_multiple(n, replicas):
    parts = split(n, replicas, shuffle=False, drop_last=True)
    assert all(len(p) == n // replicas for p in parts)
    assert sorted(i for p in parts for i in p) == list(range(n // replicas * replicas))


def test_shuffle_is_a_shared_permutation_that_changes_with_the_epoch():
    samplers = [DistributedSampler(range(20), num_replicas=2, rank=r, seed=3) for r in range(2)]
    first = [list(s) for s in samplers]
    assert sorted(first[0] + first[1]) == list(range(20))
    assert first == [list(s) for s in samplers]          # deterministic
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert sorted(second[0] + second[1]) == list(range(20)) and second != first
    assert len(samplers[0]) == 10


def test_bad_rank_and_no_group():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    if not dist.is_initialized():
        with pytest.raises(RuntimeError, match="Default process group has not been initialized"):
            DistributedSampler(range(4))


def test_matches_pytorch_without_shuffle():
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for n, replicas, drop in [(10, 3, False), (10, 3, True), (7, 4, False), (2, 4, False)]:
        for r in range(replicas):
            ours = DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop)
            theirs = TorchSampler(range(n), replicas, r, shuffle=False, drop_last=drop)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)
