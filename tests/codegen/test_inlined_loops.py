"""The small loop kernels a native program calls once are written into the program's own lines
(codegen/inlined.py), not inlined by Numba; a long program's entry is made machine code by
LLVM's fast code generator (codegen/program_entry.py). Both are checked against eager runs."""
import re

import pytest

from stepjit.codegen import machine_cache, program_entry
from stepjit.codegen.inlined import inline_kernels

from .test_repeats import compiled_rnn

KERNEL = ('def loop3(a0, o0, n0, s0):\n'
          '    acc0 = s0\n'
          '    acc0[:] = 0.0\n'
          '    for i0 in range(n0):\n'
          '        t0 = a0[i0]  # %4 = neg %i0\n'
          '        acc0[0] += t0\n'
          '    o0[()] = np.float32(acc0[0]) if a0.flags.c_contiguous else o0[()]\n')


def test_a_kernel_call_becomes_its_lines_with_its_names_prefixed():
    lines, done = inline_kernels(["v1 = w0", "loop3(i0, v1, dims[2], w7)", "loop9(v1)"],
                                 {"loop3": KERNEL})
    assert done == {"loop3"}
    assert lines == ["v1 = w0",
                     "_3_acc0 = w7",
                     "_3_acc0[:] = 0.0",
                     "for _3_i0 in range(dims[2]):",
                     "    _3_t0 = i0[_3_i0]  # %4 = neg %i0",      # (comments kept as they are)
                     "    _3_acc0[0] += _3_t0",
                     "v1[()] = np.float32(_3_acc0[0]) if i0.flags.c_contiguous else v1[()]",
                     "loop9(v1)"]


def test_a_call_inside_a_block_keeps_its_indent():
    lines, _ = inline_kernels(["if x:", "    loop3(i0, v1, dims[2], w7)"], {"loop3": KERNEL})
    assert lines[1:3] == ["    _3_acc0 = w7", "    _3_acc0[:] = 0.0"]


def test_kernels_that_cannot_stand_in_for_their_call_stay_calls():
    returns = KERNEL + "    return\n"
    rebinds = KERNEL.replace("acc0 = s0", "s0 = a0")
    for text in (returns, rebinds):
        lines, done = inline_kernels(["loop3(i0, v1, dims[2], w7)"], {"loop3": text})
        assert done == set() and lines == ["loop3(i0, v1, dims[2], w7)"]
    # an argument that is an expression: left to Numba's inlining
    lines, done = inline_kernels(["loop3(i0[1], v1, dims[2], w7)"], {"loop3": KERNEL})
    assert done == set() and lines == ["loop3(i0[1], v1, dims[2], w7)"]


def _rnn_runs(monkeypatch, steps):
    """The unrolled RNN's native programs, its results checked against eager's."""
    fn = compiled_rnn(monkeypatch, steps, seed=5)
    return [program for _, program in fn.programs.values() if program.is_native]


def test_small_loops_are_lines_of_the_program_and_it_matches_eager(fresh_kernels, monkeypatch):
    """And a kernel that a repeated run's function calls, and nothing else does (the RNN cell's
    tanh loop), is lines of that function."""
    programs = _rnn_runs(monkeypatch, steps=4)
    assert programs
    for program in programs:
        text = program.native_text
        assert 'inline="always"' not in text            # no kernel left to Numba's inlining
        body = text.split("\ndef program(", 1)[1].split("\ndef program_packed(", 1)[0]
        assert re.search(r"^    for _\d+_i0 in range\(", body, re.M)   # a loop written in it
        called = set(re.findall(r"\b(loop\d+)\(", body))
        defined = set(re.findall(r"\ndef (loop\d+)\(", text))
        assert called <= defined         # every kernel still called is defined, and only those
        functions = text.split("\ndef program(")[0]
        assert not defined - called - set(re.findall(r"\b(loop\d+)\(", functions))
        runs = re.findall(r"\ndef repeat\d+\(.*?\n\n", functions, re.S)
        assert any(re.search(r"^    for _\d+_i0 in range\(", run, re.M) for run in runs)


@pytest.mark.parametrize("fast", [False, True])
def test_a_long_entry_is_made_machine_code_fast(fresh_kernels, monkeypatch, fast):
    """Above FAST_CODEGEN_MIN_INSTRUCTIONS (set low here, so that a short program is "long")
    the entry is marked for LLVM's fast code generator; either way it matches eager."""
    if fast:
        monkeypatch.setattr(program_entry, "FAST_CODEGEN_MIN_INSTRUCTIONS", 10)
    programs = _rnn_runs(monkeypatch, steps=2)
    marked = []
    compiled = [k.compiled for p in programs for k in (p.native.fn, p.native.packed)
                if getattr(k, "compiled", None) is not None]
    assert compiled or not machine_cache.available()
    for compiled in compiled:     # (the private dispatcher that compiled the entry)
        library = next(iter(compiled.overloads.values())).library
        entry = [f for f in library._final_module.functions if f.name.startswith("stepjit_")]
        assert len(entry) == 1
        marked.append(any("optnone" in str(a) for a in entry[0].attributes))
    assert marked == [fast] * len(marked)
