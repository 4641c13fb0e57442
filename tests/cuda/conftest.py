"""CUDA tests run in a child pytest (test_cuda.py) with Numba's CUDA simulator switched on where
there is no GPU: the simulator is chosen when numba.cuda is first imported, and must not leak
into the rest of the suite. The tests themselves live in sim/, collected only in that child."""
import os

collect_ignore = [] if os.environ.get("STEPJIT_CUDA_CHILD") == "1" else ["sim"]
