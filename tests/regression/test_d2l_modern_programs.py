"""Programs in the style of d2l's later chapters (d2l_modern_programs.py): eager against
PyTorch's recorded per-step losses (float64, to 1e-9), compiled against eager (bitwise on the
interpret backend, to 1e-9 on cpu), every compiled step traced twice at most (Adam's or
momentum's state is made on the first call) with no eager fallback and no call run eagerly.
Recorded by `python -m tests.fixtures d2l_modern`."""
import pytest

from tests.fixtures import program_losses

from .d2l_modern_programs import PROGRAMS

eager, test_eager_matches_pytorch = program_losses.eager_checks("d2l_modern", PROGRAMS)


# (the CNN and the transformer on cpu: about a minute of Numba compiling on a 2-core machine)
CASES = [(name, "interpret") for name in sorted(PROGRAMS)] + [
    (name, "cpu") for name in sorted(PROGRAMS) if name not in ("modern_cnns", "transformer")]


@pytest.mark.parametrize("name,backend", CASES)
def test_compiled_matches_eager_and_stays_compiled(name, backend, eager):
    losses, made = program_losses.compiled(PROGRAMS[name], backend)
    if backend == "interpret":
        assert losses == eager[name]
    else:
        assert losses == pytest.approx(eager[name], rel=1e-9)
    for fn in made:
        st = fn.stats()
        assert st["traces"] <= 2 and st["fallbacks"] == 0 and st["eager_calls"] == 0, st
        assert st["mode"] == "tree", st
