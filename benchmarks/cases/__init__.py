"""The benchmark cases, in the order `python -m benchmarks` runs them."""
from . import two_layer

CASES = [two_layer.CASE]
