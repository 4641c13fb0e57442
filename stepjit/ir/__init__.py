"""stepjit's IR: types (types.py), the primitive registry (registry.py, primitives/), the
SSA graph (graph.py), printer, parser, verifier, the interpreter that is every backend's
oracle, and structural hashing (hashing.py)."""
