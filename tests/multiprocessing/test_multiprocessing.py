"""stepjit.multiprocessing: the standard library's names and PyTorch's additions; tensors
shared between processes (Hogwild training of one shared model, forked or spawned, eager or
compiled, equal to the same steps run in one process), tensors sent through a Queue sharing
memory, spawn's error reporting."""
import multiprocessing
import pickle
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest

import stepjit
import stepjit.multiprocessing as mp
from tests.multiprocessing import workers


def model():
    stepjit.manual_seed(0)
    return stepjit.nn.Sequential(stepjit.nn.Linear(3, 8), stepjit.nn.ReLU(),
                                 stepjit.nn.Linear(8, 2))


def params(m):
    return [p.detach().numpy().copy() for p in m.parameters()]


def test_it_is_the_standard_library_plus_pytorchs_names():
    assert stepjit.multiprocessing is mp
    for name in multiprocessing.__all__:
        assert hasattr(mp, name), name
    for name in ("spawn", "start_processes", "ProcessContext", "set_sharing_strategy",
                 "get_sharing_strategy", "get_all_sharing_strategies"):
        assert hasattr(mp, name)
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
    mp.set_sharing_strategy("file_system")
    assert mp.get_sharing_strategy() == "file_system"
    with pytest.raises(AssertionError):
        mp.set_sharing_strategy("carrier_pigeon")
    mp.set_sharing_strategy("file_descriptor")


def test_share_memory_keeps_the_objects_and_values():
    m = model()
    before, objects = params(m), list(m.parameters())
    assert not any(p.is_shared() for p in m.parameters())
    assert m.share_memory() is m
    assert list(m.parameters()) == objects and all(p.is_shared() for p in objects)
    for a, b in zip(before, params(m)):
        np.testing.assert_array_equal(a, b)
    t = stepjit.arange(6.0)
    assert t.share_memory_() is t and t.is_shared() and t.share_memory_() is t
    # plain pickle still copies the values (stepjit.save / pickle files are not shared)
    back = pickle.loads(pickle.dumps(t))
    back.add_(1.0)
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] and not back.is_shared()


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_hogwild_processes_train_the_one_shared_model(method):
    """Two processes run one after the other on the shared model: the parent's parameters are
    those of the same steps run in one process."""
    shared, local = model(), model()
    shared.share_memory()
    ctx = multiprocessing.get_context(method)
    for rank in range(2):
        p = ctx.Process(target=workers.train, args=(rank, shared))
        p.start()
        p.join()
        assert p.exitcode == 0
        workers.train(rank, local)
    for a, b in zip(params(shared), params(local)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not all(np.array_equal(a, b) for a, b in zip(params(shared), params(model())))


def test_a_compiled_step_in_a_spawned_process_writes_the_shared_model():
    shared, local = model(), model()
    shared.share_memory()
    p = mp.get_context("spawn").Process(target=workers.train, args=(0, shared, True))
    p.start()
    p.join()
    assert p.exitcode == 0
    workers.train(0, local)
    for a, b in zip(params(shared), params(local)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_concurrent_hogwild_updates_land():
    shared = model()
    shared.share_memory()
    start = params(shared)
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=workers.train, args=(rank, shared)) for rank in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0, 0]
    after = params(shared)
    assert all(np.isfinite(a).all() for a in after)
    assert all(not np.array_equal(a, b) for a, b in zip(start, after))


def test_a_tensor_sent_through_a_queue_shares_memory():
    ctx = mp.get_context("spawn")
    queue, done = ctx.Queue(), ctx.Queue()
    t = stepjit.zeros(4)
    p = ctx.Process(target=workers.increment_from_queue, args=(queue, done))
    p.start()
    queue.put(t)
    assert done.get(timeout=120) == 4.0
    p.join()
    assert t.is_shared() and t.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_spawn_runs_every_rank_and_reports_failures():
    """(Forked, to keep the test quick: spawn's contract does not depend on the start method;
    the tests above start spawned processes.)"""
    t = stepjit.zeros(3).share_memory_()
    assert mp.spawn(workers.add_rank, args=(t,), nprocs=3, start_method="fork") is None
    assert t.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(mp.ProcessRaisedException, match="worker one failed on purpose"):
        mp.spawn(workers.fail, nprocs=2, start_method="fork")
    with pytest.raises(mp.ProcessExitedException, match="exit code 3"):
        mp.start_processes(workers.exit_code, nprocs=1, start_method="fork")
    ctx = mp.spawn(workers.add_rank, args=(t,), nprocs=1, join=False, start_method="fork")
    while not ctx.join():
        pass
    assert t.tolist() == [2.0, 2.0, 3.0] and len(ctx.pids()) == 1


def test_non_leaf_tensors_that_require_grad_are_refused():
    x = stepjit.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        ForkingPickler.dumps(x)
    p = stepjit.nn.Parameter(stepjit.ones(2))
    back = ForkingPickler.loads(ForkingPickler.dumps(p))
    assert type(back) is stepjit.nn.Parameter and back.requires_grad and back.is_shared()


def test_ddp_under_spawn_says_how_to_launch(monkeypatch):
    """rasbt's DDP script: mp.spawn(main, nprocs=world_size), each rank calling
    init_process_group(rank=rank, world_size=world_size). stepjit's process groups come from
    MPI, so a rank that MPI does not know is refused with the way to launch instead."""
    dist = stepjit.distributed
    if not dist.is_available():
        pytest.skip("mpi4py is not installed")
    from stepjit.ir.primitives import collective
    monkeypatch.setattr(collective.World, "group", None)   # (as in a fresh process)
    with pytest.raises(ValueError, match=r"stepjit run -n N.*multiprocessing.spawn"):
        dist.init_process_group("gloo", rank=1, world_size=2)
    assert not dist.is_initialized()
