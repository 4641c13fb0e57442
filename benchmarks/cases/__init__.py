"""The benchmark cases, in the order `python -m benchmarks` runs them."""
from . import two_layer
from . import adam, compiled_two_layer, logistic  # issue 5: B1-B3

CASES = [two_layer.CASE]
CASES += [compiled_two_layer.CASE, logistic.CASE, adam.CASE]
from . import compiled_module  # noqa: E402 - a compiled model, backward and optimizer outside
CASES += [compiled_module.CASE]
from . import cuda  # noqa: E402 - issue 7: GPU cases, skipped (saying why) without a GPU
CASES += cuda.CASES
