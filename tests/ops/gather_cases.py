"""gather with an index smaller than the input outside the gathered dimension (PyTorch reads
only the index's extent there), against PyTorch: tests/fixtures/record_gather.py."""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(77)
X = RNG.standard_normal((3, 4))
X3 = RNG.standard_normal((2, 3, 5))

CASES = [
    Case("smaller_rows", lambda T, x: (T.gather(x, 1, T.tensor([[0, 3], [2, 2]])),
                                       x.gather(1, T.tensor([[1], [0], [3]])),
                                       T.gather(x, 0, T.tensor([[2, 0, 1]]))), X),
    Case("longer_gathered_dim", lambda T, x: (T.gather(x, 1, T.tensor([[0, 3, 3, 1, 2, 0]])),
                                              T.gather(x, 0, T.tensor([[2], [0], [1], [2]]))), X),
    Case("three_dims", lambda T, x3: (T.gather(x3, 2, T.tensor([[[4, 0]], [[1, 1]]])),
                                      x3.gather(1, T.tensor([[[2, 0, 1]]])),
                                      T.gather(x3, -1, T.zeros(1, 2, 1, dtype=T.int64))), X3),
]
