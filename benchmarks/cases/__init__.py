"""The benchmark cases, in the order `python -m benchmarks` runs them."""
from . import two_layer
from . import adam, compiled_two_layer, logistic  # issue 5: B1-B3

CASES = [two_layer.CASE]
CASES += [compiled_two_layer.CASE, logistic.CASE, adam.CASE]
from . import compiled_module  # noqa: E402 - a compiled model, backward and optimizer outside
CASES += [compiled_module.CASE]
from . import math_loops  # noqa: E402 - transcendental loops against NumPy's ufuncs
CASES += math_loops.CASES
from . import workloads  # noqa: E402 - W2, W3, W6: real training steps
CASES += workloads.CASES
from . import models  # noqa: E402 - W7, W8: a small CNN, a character transformer
CASES += models.CASES
from . import cuda  # noqa: E402 - issue 7: GPU cases, skipped (saying why) without a GPU
CASES += cuda.CASES
from . import sliced_batches  # noqa: E402 - batches sliced by the loop variable (windows.py)
CASES += [sliced_batches.CASE]
from . import accumulators  # noqa: E402 - Python accumulators updated from .item() (results.py)
CASES += [accumulators.CASE]
from . import epoch_loop  # noqa: E402 - per-epoch meters, an attribute loss, a plot every 5th call
CASES += [epoch_loop.CASE]
from . import host_draws  # noqa: E402 - a GAN step drawing its noise with np.random (draws.py)
CASES += [host_draws.CASE]
