"""Matrix multiplication: batched over leading dims; 1-D operands are handled by the front end."""
from __future__ import annotations

import numpy as np

from ..registry import Primitive, register
from . import shapes as S

matmul = register(Primitive(
    "matmul", "matmul", np.matmul, S.matmul_rule, inputs=("x", "y"),
    vjp=(lambda g, y: g @ y.mT, lambda g, x: x.mT @ g), grad_name="MmBackward0"))
