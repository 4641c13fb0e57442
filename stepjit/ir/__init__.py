"""stepjit's IR: types, the primitive registry, and (later) Graph, printer, parser, verifier, interpreter."""
