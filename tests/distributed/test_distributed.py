"""stepjit.distributed and DistributedDataParallel on two MPI processes.

Each test launches one worker script (tests/distributed/workers/) with the mpiexec beside this
Python (`pip install '.[test]'` brings mpi4py and the mpich wheel) and checks what every rank
printed; the workers compare against NumPy or a single-process run themselves and abort the
job on the first difference. Skipped, with the reason, where mpi4py or mpiexec is missing."""
import os
import subprocess
import sys
import time

import pytest

from stepjit.distributed import launch

WORKERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(WORKERS)))


def _mpiexec():
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install 'stepjit[mpi]')")
    try:
        return launch.mpiexec_path()
    except FileNotFoundError as e:
        pytest.skip(str(e))


def run_workers(script, *args, n=2, timeout=240):
    cmd = launch.command(n, os.path.join(WORKERS, script), args, mpiexec=_mpiexec())
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    return proc, time.monotonic() - start


def assert_ok(proc, *names, n=2):
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    for name in names:
        for rank in range(n):
            assert f"ok {name} rank {rank}" in proc.stdout, (name, rank, out[-4000:])


def test_every_collective_matches_numpy_on_two_ranks():
    proc, _ = run_workers("collectives.py")
    names = [f"{c} {d}" for d in ("float32", "float64", "int64")
             for c in ("broadcast", "all_gather", "reduce_scatter", "reduce", "gather", "scatter")]
    names += [f"all_reduce {op} {d}" for d in ("float32", "float64")
              for op in ("SUM", "MAX", "MIN", "PRODUCT", "AVG")]
    names += [f"all_reduce {op} int64" for op in ("SUM", "MAX", "MIN", "PRODUCT")]
    assert_ok(proc, *names, "async_op barrier", "mismatched shapes raise",
              "mismatched dtypes raise", "all_reduce gradient", "destroy", "0-d all_reduce")


@pytest.mark.parametrize("mode,dtype", [("eager", "float64"), ("compiled", "float64"),
                                        ("eager", "float32")])
def test_ddp_training_equals_one_process_on_the_global_batch(mode, dtype):
    proc, _ = run_workers("ddp.py", mode, dtype, timeout=400)
    assert_ok(proc, f"ddp {mode} {dtype}")


def test_no_sync_unused_parameters_and_buffers():
    proc, _ = run_workers("ddp_extras.py")
    assert_ok(proc, "no_sync", "unused parameter error", "find_unused_parameters", "buffers")


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_failing_rank_ends_the_job_with_an_error_naming_it(how):
    proc, seconds = run_workers("fault.py", how, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "rank 0 was not stopped" not in out
    assert seconds < 30, seconds
    if how == "raise":
        assert "rank 1 of 2 raised ValueError: a bug on rank 1" in out, out[-3000:]
    else:
        assert "signal 9" in out or "Killed" in out, out[-3000:]


def test_stepjit_run_trains_the_ddp_example_on_two_ranks():
    _mpiexec()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "stepjit.cli", "run", "-n", "2",
                           "examples/ddp_mlp.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    losses = [float(line.split()[3]) for line in proc.stdout.splitlines()
              if line.startswith("epoch")]
    assert len(losses) == 3 and "(mean over 2 ranks)" in proc.stdout, proc.stdout
    assert losses[-1] < 0.5 * losses[0], losses


def test_without_mpi4py_import_works_and_says_what_to_install(monkeypatch):
    from stepjit.distributed import backend
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    assert not backend.available()
    with pytest.raises(ImportError, match=r"pip install 'stepjit\[mpi\]'"):
        backend.MPIGroup()


def test_zero_redundancy_optimizer_equals_one_optimizer_over_every_parameter():
    proc, _ = run_workers("zero.py")
    assert_ok(proc, "zero step", "zero state_dict", "zero load_state_dict")


def test_zero_redundancy_optimizer_needs_a_process_group():
    import stepjit as torch
    from stepjit.distributed.optim import ZeroRedundancyOptimizer
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="init_process_group"):
        ZeroRedundancyOptimizer([w], optimizer_class=torch.optim.SGD, lr=0.1)
