"""Programs in the style of teaching code that builds models from scratch
(from_scratch_programs.py): eager against PyTorch's recorded per-step losses (float64, to
1e-9), compiled against eager (bitwise on the interpret backend, to 1e-9 on cpu), with no
eager fallback, no call run eagerly and the traces each step is expected to make. Recorded by `python -m tests.fixtures from_scratch`."""
import pytest

from tests.fixtures import program_losses
from tests.fixtures.record_from_scratch import SEED

from .from_scratch_programs import PROGRAMS

eager, test_eager_matches_pytorch = program_losses.eager_checks("from_scratch", PROGRAMS,
                                                                seed=SEED)

# traces each compiled step makes: eval_counter_gpt: the evaluating first call (it prints,
# and makes AdamW's state), `it == 1`, one trace reading `it` per call, the evaluating last
# call; instruction_collate: the first call, then one per batch length (6, 4, 5; its first
# was 5); amp_plateau: as the others, and one when the second epoch binds a new `losses`
# list; the others: the first call (the optimizer's state), then one
TRACES = {"eval_counter_gpt": [4], "frozen_head_classifier": [2], "lora_classifier": [2],
          "instruction_collate": [4], "rnn_family": [2] * 4, "einsum_transformer": [2],
          "attention_seq2seq": [2], "cnn_zoo": [2] * 5, "amp_plateau": [3]}


# (the cpu backend for one program: the classifiers' kernels are those of GPTs other tests
# compile, and a cold compile of each costs 20-60 s of CI)
CASES = [(name, "interpret") for name in sorted(PROGRAMS)] + [("eval_counter_gpt", "cpu")]


@pytest.mark.parametrize("name, backend", CASES)
def test_compiled_matches_eager(name, backend, eager):
    import stepjit
    stepjit.manual_seed(SEED)
    losses, made = program_losses.compiled(PROGRAMS[name], backend)
    program_losses.assert_same_as_eager(losses, eager[name], backend)
    stats = [fn.stats() for fn in made]
    assert all(st["fallbacks"] == st["eager_calls"] == 0 for st in stats), stats
    assert [st["traces"] for st in stats] == TRACES[name], stats
