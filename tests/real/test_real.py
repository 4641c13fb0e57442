"""Real training programs other people wrote, run unchanged, eagerly and compiled, against the
per-step losses PyTorch computed for the same programs (tests/fixtures/real/, recorded by
tests/fixtures/record_real.py; CI needs no PyTorch). How a program is run: harness.py; which
programs and what each is expected to do today: corpus.py; the table: README.md here.

- eager: the program's losses match PyTorch's, step by step, within float32 drift (float64
  programs to 1e-6);
- compiled (backends interpret and cpu): the same, and equal to the eager run (bitwise on the
  interpret backend, within the same drift on cpu), with the number of traces the entry
  expects and no step run eagerly unless the entry says why.
"""
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.real import harness
from tests.real.corpus import CORPUS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "real"
BACKENDS = tuple(os.environ.get("STEPJIT_REAL_BACKENDS", "interpret,cpu").split(","))
_EAGER = {}


def recorded(entry):
    path = FIXTURES / f"{entry.name}.json"
    assert path.exists(), f"no PyTorch reference for {entry.name}: python -m tests.fixtures real"
    return json.loads(path.read_text())


def run(entry, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # the compiled run's own warnings are asserted below
        return harness.run(entry.program, probe=entry.probe, lines=entry.lines, argv=entry.argv,
                           data=entry.data, folder=entry.folder, **kw)


def eager_run(entry):
    if entry.name not in _EAGER:
        _EAGER[entry.name] = run(entry)
    return _EAGER[entry.name]


def assert_losses_match(entry, got, want, what):
    assert len(got) == len(want), f"{entry.name} {what}: {len(got)} steps, expected {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        assert (g is None) == (w is None), f"{entry.name} {what}: step {k}: {g} vs {w}"
        if g is None:
            continue
        rtol, atol = entry.tolerance(k)
        assert abs(g - w) <= atol + rtol * abs(w), \
            f"{entry.name} {what}: step {k}: loss {g!r}, expected {w!r} (rtol {rtol:.2g})"


def _params(backends):
    """One param per program (eager) or per program and backend (compiled), strict xfail
    where the entry names a reason."""
    out = []
    for e in CORPUS:
        for backend in backends:
            reason = e.eager or (backend and e.compiled_reason(backend))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            args = (e, backend) if backend else (e,)
            out.append(pytest.param(*args, id=f"{e.name}-{backend}" if backend else e.name,
                                    marks=marks))
    return out


@pytest.mark.parametrize("entry", _params([None]))
def test_eager_matches_pytorch(entry):
    ref = recorded(entry)
    assert_losses_match(entry, eager_run(entry).losses, ref["losses"], "eager vs PyTorch")


@pytest.mark.parametrize("entry, backend", _params(BACKENDS))
def test_compiled_matches_eager_and_pytorch(entry, backend):
    ref = recorded(entry)
    got = run(entry, compiled=True, backend=backend)
    assert_losses_match(entry, got.losses, ref["losses"], f"compiled ({backend}) vs PyTorch")
    eager = eager_run(entry).losses
    if backend == "interpret":
        assert got.losses == eager, f"{entry.name}: interpreted compiled run differs from eager"
    else:
        assert_losses_match(entry, got.losses, eager, f"compiled ({backend}) vs eager")
    stats = [cf.stats() for cf in got.compiled.values()]
    traces = sum(s["traces"] for s in stats)
    fallbacks = sum(s["fallbacks"] for s in stats)
    assert fallbacks == entry.fallbacks, \
        f"{entry.name}: {fallbacks} steps ran eagerly ({entry.fallback_why or 'none expected'})"
    assert entry.traces is None or traces == entry.traces, \
        f"{entry.name}: {traces} traces, expected {entry.traces}: {stats}"
