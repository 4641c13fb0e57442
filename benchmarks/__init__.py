"""stepjit's benchmarks: `python -m benchmarks` (or `stepjit bench`).

harness.py  Case / Variant and the interleaved timer; knows nothing about models.
cases/      one module per benchmark case; cases/__init__.py lists them.

Performance is measured here, never asserted by timed unit tests.

Threads: every variant runs single-threaded by default (BLAS and PyTorch), so
that on a small machine the variants do not fight over cores and the ratios
compare the work done, not the thread pools. Set STEPJIT_BENCH_THREADS=N to
change it; it must be set before NumPy is first imported, which is why it is
done here, on importing this package.
"""
import os

THREADS = int(os.environ.get("STEPJIT_BENCH_THREADS", "1"))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(THREADS))
