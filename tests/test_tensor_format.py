"""f-strings and format() of tensors: a plain 0-d tensor formats as its Python number (so a
training log such as f"step {i} loss {loss}" prints the value), anything else as its repr,
and a format spec on a tensor with elements is PyTorch's TypeError."""
import pytest

import stepjit


def test_a_scalar_loss_in_an_fstring_prints_its_value():
    w = stepjit.tensor([0.5, -1.5], requires_grad=True)
    loss = (w * w).sum()
    assert f"loss={loss}" == "loss=2.5"
    assert f"{loss:.2f}|{loss:>6}" == "2.50|   2.5"


def test_integer_and_bool_scalars_format_as_python_numbers():
    counts = stepjit.tensor([3, 1, 4])
    assert f"max at {counts.argmax()}, total {counts.sum()}" == "max at 2, total 8"
    assert f"{(counts > 2).all()}" == "False"


def test_tensors_with_elements_and_parameters_keep_their_repr():
    row = stepjit.tensor([1.0, 2.0])
    assert f"{row}" == repr(row)
    p = stepjit.nn.Parameter(stepjit.tensor(1.0))
    assert f"{p}" == repr(p) and f"{p}".startswith("Parameter containing")
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{row:.3f}"


def test_the_value_formatted_inside_a_compiled_step_follows_the_data():
    seen = []

    @stepjit.compile(backend="interpret")
    def step(x):
        loss = (x * 2).sum()
        seen.append(f"{loss:.1f}")
        return loss

    step(stepjit.tensor([1.0, 2.0]))
    step(stepjit.tensor([3.0, 4.0]))
    assert seen[0] == "6.0" and seen[-1] == "14.0"
