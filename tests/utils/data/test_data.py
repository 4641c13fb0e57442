"""stepjit.utils.data: datasets, samplers, collate and DataLoader against PyTorch's behaviour
(its documented rules and error texts; the optional oracle at the end runs torch itself)."""
import collections
import warnings

import numpy as np
import pytest

import stepjit as torch
from stepjit.utils.data import (
    BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset,
    RandomSampler, SequentialSampler, StackDataset, Subset, SubsetRandomSampler, TensorDataset,
    WeightedRandomSampler, default_collate, default_convert, random_split)

Point = collections.namedtuple("Point", "x y")


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return torch.tensor([float(i)]), i * i

    def __len__(self):
        return self.n


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


# -- datasets -------------------------------------------------------------------------------
def test_tensor_subset_concat_chain_and_stack_datasets():
    x, y = torch.arange(10.0).reshape(5, 2), torch.arange(5)
    ds = TensorDataset(x, y)
    assert len(ds) == 5 and ds[2][0].tolist() == [4.0, 5.0] and ds[2][1].item() == 2
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(x, torch.arange(4))
    sub = Subset(ds, [4, 0])
    assert len(sub) == 2 and sub[0][1].item() == 4
    both = ds + Squares(3)
    assert isinstance(both, ConcatDataset) and len(both) == 8 and both.cumulative_sizes == [5, 8]
    assert both[6][1] == 1 and both[-1][1] == 4 and both[4][1].item() == 4
    with pytest.raises(ValueError, match="absolute value of index should not exceed"):
        both[-9]
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Stream(2)])
    chain = Stream(2) + Stream(3)
    assert isinstance(chain, ChainDataset) and list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5
    st = StackDataset(a=Squares(3), b=Squares(3))
    assert len(st) == 3 and st[2]["b"][1] == 4
    assert StackDataset(Squares(2), Squares(2))[1][0][1] == 1
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(Squares(2), Squares(3))
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_random_split_lengths_fractions_and_generator():
    parts = random_split(range(10), [3, 7], generator=torch.Generator().manual_seed(1))
    again = random_split(range(10), [3, 7], generator=torch.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [3, 7] and parts[0].indices == again[0].indices
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    # Fractions: floor of each share, the remainder one by one from the first (PyTorch's rule).
    assert [len(p) for p in random_split(range(10), [0.33, 0.33, 0.34])] == [4, 3, 3]
    assert [len(p) for p in random_split(range(11), [0.5, 0.5])] == [6, 5]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [1.0, 0.0])
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length"):
        random_split(range(10), [3, 6])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])


# -- samplers -------------------------------------------------------------------------------
def test_sequential_random_and_subset_random_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    r = RandomSampler(range(10), generator=torch.Generator().manual_seed(3))
    a, b = list(r), list(r)
    assert sorted(a) == list(range(10)) and a != b            # each pass a new order
    torch.manual_seed(0)
    c = list(RandomSampler(range(10)))
    torch.manual_seed(0)
    assert list(RandomSampler(range(10))) == c                # seeded from the default generator
    more = list(RandomSampler(range(4), num_samples=10))
    assert len(more) == 10 and sorted(more[:8]) == [0, 0, 1, 1, 2, 2, 3, 3]
    rep = list(RandomSampler(range(3), replacement=True, num_samples=100))
    assert len(rep) == 100 and set(rep) == {0, 1, 2}
    assert sorted(SubsetRandomSampler([7, 8, 9])) == [7, 8, 9]
    with pytest.raises(ValueError, match="replacement should be a boolean value, but got "
                                         "replacement=1"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but "
                                         "got num_samples=0"):
        RandomSampler(range(3), num_samples=0)


def test_weighted_random_sampler():
    s = WeightedRandomSampler([0.1, 0.0, 0.9], 20000)
    freq = np.bincount(list(s), minlength=3) / 20000
    assert len(s) == 20000 and freq[1] == 0 and abs(freq[2] - 0.9) < 0.015
    once = list(WeightedRandomSampler(torch.tensor([1.0, 2.0, 3.0, 4.0]), 4, replacement=False))
    assert sorted(once) == [0, 1, 2, 3]
    g = torch.Generator()
    assert list(WeightedRandomSampler([1, 2, 3], 5, generator=g.manual_seed(2))) == \
        list(WeightedRandomSampler([1, 2, 3], 5, generator=g.manual_seed(2)))
    with pytest.raises(ValueError, match="weights should be a 1d sequence but given weights "
                                         r"have shape \(1, 3\)"):
        WeightedRandomSampler([[1.0, 2.0, 3.0]], 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], -1)


def test_batch_sampler():
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but "
                                         "got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got "
                                         "drop_last=None"):
        BatchSampler(range(3), 1, None)


# -- collate ----------------------------------------------------------------------------------
def test_default_collate_follows_pytorchs_rules():
    samples = [{"img": torch.full((2,), float(i)), "label": i, "w": 0.5 * i, "ok": i % 2 == 0,
                "name": f"s{i}", "np": np.full(3, i, dtype=np.int32), "npf": np.float32(i),
                "pair": (i, [float(i), 2.0]), "pt": Point(i, torch.tensor(i))}
               for i in range(3)]
    b = default_collate(samples)
    assert b["img"].shape == (3, 2) and b["img"].dtype == torch.float32
    assert b["label"].dtype == torch.int64 and b["label"].tolist() == [0, 1, 2]
    assert b["w"].dtype == torch.float64 and b["ok"].dtype == torch.bool
    assert b["name"] == ["s0", "s1", "s2"]
    assert b["np"].dtype == torch.int32 and b["np"].shape == (3, 3)
    assert b["npf"].dtype == torch.float32 and b["npf"].tolist() == [0.0, 1.0, 2.0]
    pair = b["pair"]
    assert isinstance(pair, list) and pair[0].tolist() == [0, 1, 2]          # tuple -> list
    assert isinstance(pair[1], list) and pair[1][0].dtype == torch.float64
    assert isinstance(b["pt"], Point) and b["pt"].y.tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy "
                                        "arrays, numbers, dicts or lists; found <class 'object'>"):
        default_collate([object(), object()])
    assert default_convert({"a": np.ones(2), "b": (np.zeros(1), "s")})["b"][0].shape == (1,)


# -- DataLoader -----------------------------------------------------------------------------
def _xy(n=10):
    return torch.arange(2.0 * n).reshape(n, 2), torch.arange(n)


def test_dataloader_batches_shuffle_drop_last_and_len():
    x, y = _xy()
    ds = TensorDataset(x, y)
    batches = list(DataLoader(ds, batch_size=4))
    assert len(DataLoader(ds, batch_size=4)) == 3
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert isinstance(batches[0], list) and batches[0][0].shape == (4, 2)
    assert [len(b[1]) for b in DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    loader = DataLoader(ds, batch_size=5, shuffle=True)
    e1 = [i for b in loader for i in b[1].tolist()]
    e2 = [i for b in loader for i in b[1].tolist()]
    assert sorted(e1) == list(range(10)) and e1 != e2       # reshuffled every epoch
    g = torch.Generator()
    runs = [[i for b in DataLoader(ds, batch_size=3, shuffle=True,
                                   generator=g.manual_seed(9)) for i in b[1].tolist()]
            for _ in range(2)]
    assert runs[0] == runs[1]
    it = iter(DataLoader(ds, batch_size=3))
    assert len(it) == 4 and next(it)[1].tolist() == [0, 1, 2]


def test_dataloader_gathers_like_collating_each_sample():
    """The TensorDataset path (one gather per tensor) gives what collating samples gives."""
    x, y = _xy(9)

    class Rows(Dataset):
        def __getitem__(self, i):
            return x[i], y[i]

        def __len__(self):
            return 9
    fast = DataLoader(Subset(TensorDataset(x, y), [8, 1, 4, 4, 0]), batch_size=2)
    slow = DataLoader(Subset(Rows(), [8, 1, 4, 4, 0]), batch_size=2)
    for a, b in zip(fast, slow):
        for s, t in zip(a, b):
            assert s.dtype == t.dtype and s.shape == t.shape and s.tolist() == t.tolist()


def test_dataloader_samplers_collate_fn_and_no_batching():
    x, y = _xy(6)
    ds = TensorDataset(x, y)
    got = [b[1].tolist() for b in DataLoader(ds, batch_sampler=[[5, 0], [2]])]
    assert got == [[5, 0], [2]]
    got = [b[1].tolist() for b in DataLoader(ds, batch_size=2, sampler=[3, 2, 1, 0])]
    assert got == [[3, 2], [1, 0]]
    loader = DataLoader(Squares(3), batch_size=2, collate_fn=lambda batch: [s[1] for s in batch])
    assert list(loader) == [[0, 1], [4]]
    single = list(DataLoader(Squares(2), batch_size=None))
    assert single[1][1] == 1 and single[1][0].shape == (1,)
    conv = list(DataLoader([np.ones(2)], batch_size=None))
    assert isinstance(conv[0], torch.Tensor) and conv[0].dtype == torch.float64
    opts = DataLoader(ds, batch_size=3, num_workers=2, pin_memory=True, persistent_workers=True,
                      prefetch_factor=4, worker_init_fn=print, timeout=5)
    assert [b[1].tolist() for b in opts] == [[0, 1, 2], [3, 4, 5]]   # loaded in-process


def test_dataloader_over_an_iterable_dataset():
    assert [b.tolist() for b in DataLoader(Stream(5), batch_size=2)] == [[0, 1], [2, 3], [4]]
    assert [b.tolist() for b in DataLoader(Stream(5), batch_size=2, drop_last=True)] == \
        [[0, 1], [2, 3]]
    assert len(DataLoader(Stream(5), batch_size=2)) == 3
    assert len(DataLoader(Stream(5), batch_size=2, drop_last=True)) == 2
    assert [int(b) for b in DataLoader(Stream(3), batch_size=None)] == [0, 1, 2]


BAD_LOADERS = [   # (DataLoader keywords, PyTorch 2.13's ValueError text)
    (dict(dataset="map", sampler=[0], shuffle=True),
     "sampler option is mutually exclusive with shuffle"),
    (dict(dataset="map", batch_sampler=[[0]], batch_size=2),
     "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
     "drop_last"),
    (dict(dataset="map", batch_size=None, drop_last=True),
     "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"),
    (dict(dataset="map", num_workers=-1), "num_workers option should be non-negative; use "
     "num_workers=0 to disable multiprocessing."),
    (dict(dataset="map", timeout=-1), "timeout option should be non-negative"),
    (dict(dataset="map", prefetch_factor=2), "prefetch_factor option could only be specified in "
     "multiprocessing.let num_workers > 0 to enable multiprocessing, otherwise set "
     "prefetch_factor to None."),
    (dict(dataset="map", persistent_workers=True),
     "persistent_workers option needs num_workers > 0"),
    (dict(dataset="stream", shuffle=True),
     "DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=True"),
    (dict(dataset="stream", batch_sampler=[[0]]),
     "DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
     "batch_sampler=[[0]]"),
]


def _make_loader(mod, dataset, **kw):
    """DataLoader from `mod` (stepjit.utils.data or torch.utils.data) over a small dataset."""
    class Map(mod.Dataset):
        def __getitem__(self, i):
            return i

        def __len__(self):
            return 3

    class Iter(mod.IterableDataset):
        def __iter__(self):
            return iter(range(3))
    return mod.DataLoader(Map() if dataset == "map" else Iter(), **kw)


@pytest.mark.parametrize("i", range(len(BAD_LOADERS)))
def test_dataloader_refuses_what_pytorch_refuses(i):
    import stepjit.utils.data as data
    with pytest.raises(ValueError) as err:
        _make_loader(data, **BAD_LOADERS[i][0])
    assert str(err.value) == BAD_LOADERS[i][1]


def test_a_compiled_step_over_a_dataloader_traces_once_per_batch_shape():
    """Full batches share one trace; the short last batch adds at most one more. (w.grad
    exists before the first call: a call that creates it is traced for itself, DESIGN §6.)"""
    torch.manual_seed(0)
    w = torch.zeros(2, 1, requires_grad=True)
    w.grad = torch.zeros(2, 1)
    x, _ = _xy(10)
    ds = TensorDataset(x, x.sum(1, keepdim=True))

    @torch.compile(backend="interpret")
    def step(xb, yb):
        loss = ((xb @ w - yb) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(w.grad * 0.001)
            w.grad.zero_()
        return loss

    for _ in range(3):
        for xb, yb in DataLoader(ds, batch_size=4, shuffle=True):
            step(xb, yb)
    assert step.stats()["calls"] == 9 and step.stats()["traces"] <= 2
    reasons = [e["reason"] for e in step.events
               if e["kind"] == "trace" and not e["reason"].startswith("re-verifying")]
    assert len(reasons) == 2 and reasons[0] == "first call"
    assert reasons[1].startswith("tensor argument 0 changed from float32[4, 2] to "
                                 "float32[2, 2] (a new shape")


# -- optional oracle: torch.utils.data itself -------------------------------------------------
@pytest.mark.parametrize("i", range(len(BAD_LOADERS)))
def test_dataloader_errors_match_torch(i):
    real = pytest.importorskip("torch")
    import torch.utils.data as tdata
    with pytest.raises(ValueError) as err:
        _make_loader(tdata, **BAD_LOADERS[i][0])
    assert str(err.value) == BAD_LOADERS[i][1]


def test_collate_and_split_lengths_match_torch():
    real = pytest.importorskip("torch")
    import torch.utils.data as tdata
    import stepjit.utils.data as data

    def describe(v):
        if hasattr(v, "dtype") and hasattr(v, "shape"):
            return ("tensor", str(v.dtype).split(".")[-1], tuple(v.shape))
        if isinstance(v, dict):
            return {k: describe(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return (type(v).__name__, [describe(x) for x in v])
        return v

    def samples(T):
        return [{"t": T.ones(2), "i": 1, "f": 0.5, "b": True, "s": "a", "np": np.ones(2),
                 "tup": (1, [2.0, 3.0]), "npi": np.int64(3)} for _ in range(2)]
    assert describe(data.default_collate(samples(torch))) == \
        describe(tdata.default_collate(samples(real)))
    for n, fracs in [(10, [0.33, 0.33, 0.34]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7])]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = [len(p) for p in data.random_split(range(n), fracs)]
            theirs = [len(p) for p in tdata.random_split(range(n), fracs)]
        assert ours == theirs


def test_a_pass_draws_its_seeds_in_pytorchs_order():
    """As in PyTorch: iter(loader) draws a base seed (from loader.generator, else the default
    generator), then the RandomSampler seeds a fresh Generator with the next default draw and
    permutes with it. A program recorded with PyTorch drawing from stepjit's generator
    (tests/real/torch_streams.py) therefore sees the same order."""
    ds = TensorDataset(torch.arange(7))
    torch.manual_seed(4)
    got = [i for (b,) in DataLoader(ds, batch_size=3, shuffle=True) for i in b.tolist()]
    torch.manual_seed(4)
    torch.empty((), dtype=torch.int64).random_()               # the base seed
    seed = int(torch.empty((), dtype=torch.int64).random_().item())
    assert got == torch.randperm(7, generator=torch.Generator().manual_seed(seed)).tolist()


def test_random_without_bounds_spans_the_dtype():
    big = torch.empty(2000, dtype=torch.int64).random_()
    assert big.min().item() >= 0 and big.max().item() > 2 ** 61
    f = torch.empty(2000).random_()
    assert f.min().item() >= 0 and f.max().item() <= 2 ** 24 and f.max().item() > 2 ** 22
    assert set(torch.empty(50, dtype=torch.bool).random_().tolist()) == {False, True}


def test_distributed_sampler_is_where_pytorch_has_it():
    from stepjit.distributed import DistributedSampler
    from stepjit.utils.data import distributed
    assert distributed.DistributedSampler is DistributedSampler
    assert torch.utils.data.DistributedSampler is DistributedSampler
    share = list(DistributedSampler(range(10), num_replicas=2, rank=1, shuffle=False))
    assert share == [1, 3, 5, 7, 9]
