"""The optimization pipeline: named, pure Graph -> Graph passes, in the order they run.

    dce       drop what outputs and writes do not need (less for the others to look at)
    cse       one node per distinct computation
    fold      uniform constants (the root gradient and its broadcasts) become `full`
    simplify  algebraic identities that keep every bit; `full` operands become literals
    cse       simplification can make two nodes alike
    dce       drop what folding and simplification left unused

Each output graph is stamped with the pass that made it (`graph.stage`). With
`verify=True`, or STEPJIT_VERIFY=1 in the environment, the IR verifier runs on
the input and after every pass, and an error names the pass that broke it.
"""
from __future__ import annotations

import os

from ..ir.graph import Graph
from ..ir.verifier import IRVerifyError, verify as verify_graph
from .cse import cse
from .dce import dce
from .fold import fold
from .simplify import simplify

OPTIMIZE = [
    ("dce", dce),
    ("cse", cse),
    ("fold", fold),
    ("simplify", simplify),
    ("cse", cse),
    ("dce", dce),
]


def verify_enabled(verify: bool = False) -> bool:
    return verify or os.environ.get("STEPJIT_VERIFY", "") not in ("", "0")


def run_passes(graph: Graph, passes, *, verify: bool = False) -> Graph:
    """Run (name, pass) pairs in order; each result is stamped stage=name."""
    check = verify_enabled(verify)
    if check:
        verify_graph(graph)
    for name, fn in passes:
        graph = fn(graph)
        graph.stage = name
        if check:
            try:
                verify_graph(graph)
            except IRVerifyError as e:
                raise IRVerifyError(f"after pass {name}: {e}") from None
    return graph


def optimize(graph: Graph, *, verify: bool = False) -> Graph:
    """The graph after every pass of OPTIMIZE; `graph` itself is left untouched."""
    return run_passes(graph, OPTIMIZE, verify=verify)
