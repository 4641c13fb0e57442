"""CUDA tests run in a child pytest (test_cuda.py) with Numba's CUDA simulator switched on where
there is no GPU: the simulator is chosen when numba.cuda is first imported, and must not leak
into the rest of the suite. The tests themselves live in sim/, collected only in that child."""
import os
import sys

CHILD = os.environ.get("STEPJIT_CUDA_CHILD") == "1"
collect_ignore = [] if CHILD else ["sim"]

if CHILD and os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    # The simulator runs each GPU thread as a Python thread, and its block manager busy-polls
    # them while holding the GIL; the default 5 ms switch interval makes every syncthreads()
    # wait for it. 0.1 ms runs the same kernels 2-4x faster (measured on the matmul kernel).
    sys.setswitchinterval(1e-4)
