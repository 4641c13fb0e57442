"""Programs handing their step a batch record and building tensors the old way
(record_batch_programs.py): eager against PyTorch's recorded per-step losses (float64, to
1e-9), compiled against eager (bitwise on the interpret backend, to 1e-9 on cpu), with no
call run eagerly and the traces bounded: a new batch record per call, a bag-of-words view
kept in a global and a `Tensor([0])` accumulator each made every call trace again (then
run eagerly past the recompile limit), and the accumulator replayed the last call's total.
Recorded by `python -m tests.fixtures record_batches`."""
import pytest

from tests.fixtures import program_losses

from .record_batch_programs import PROGRAMS

# traces: Adam's state and the first .grad; then one per new padded length (dict batches)
# or per sentence (the tagger's word lists are Python values)
MAX_TRACES = {"batch_object_seq2seq": 3, "dict_batch_classifier": 4, "legacy_tensor_tagger": 4}

eager, test_eager_matches_pytorch = program_losses.eager_checks("record_batches", PROGRAMS)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_compiled_matches_eager(name, backend, eager):
    losses, made = program_losses.compiled(PROGRAMS[name], backend)
    program_losses.assert_same_as_eager(losses, eager[name], backend)
    st = made[0].stats()
    assert st["fallbacks"] == 0 and st["eager_calls"] == 0, st
    assert st["traces"] <= MAX_TRACES[name], st
