"""nn.SyncBatchNorm on two MPI processes equals BatchNorm on the whole batch
(tests/distributed/workers/sync_batchnorm.py checks each rank; skipped without mpi4py)."""
from tests.distributed.test_distributed import assert_ok, run_workers


def test_sync_batchnorm_on_two_ranks_equals_batchnorm_on_the_whole_batch():
    proc, _ = run_workers("sync_batchnorm.py")
    assert_ok(proc, "sync_batchnorm eager", "sync_batchnorm compiled")
