"""`torch.utils.benchmark`: Timer, Measurement and Compare, as the benchmark recipe and the
Timer quick start use them, for Python statements (stepjit has no C++ front end, and
Callgrind counts of a Python statement would count the interpreter: both raise).

A Timer runs `setup` once, then times `stmt` in blocks of `number` runs with
`timeit.default_timer` (the same clock as timeit); each block gives one measurement of the
time per run. `blocked_autorange` first grows the block until a block takes at least 0.1 ms,
then times blocks until `min_run_time` has passed; `adaptive_autorange` stops once the IQR
is below `threshold` of the median. `num_threads` is set (stepjit.set_num_threads) while
timing and restored after.
"""
from __future__ import annotations

from .timer import Language, Timer  # noqa: F401
from .measurement import Compare, Measurement  # noqa: F401
