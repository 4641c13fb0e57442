"""Comparison operators whose other operand is neither a tensor nor a number.

PyTorch's `Tensor.__eq__` and its siblings return NotImplemented for such an operand, so
Python's own rules apply: `t == None` is False, `t != None` is True (identity), and an
ordering (`t < None`) raises Python's TypeError. Sampling loops rely on it: the LLM book's
`generate(..., eos_id=None)` tests `if idx_next == eos_id: break` on every new token. The
named functions (`t.eq(None)`, `torch.eq(t, None)`) still raise, as PyTorch's do. Each
expectation below is what PyTorch 2.13 returns for the same expression."""
import pytest

import stepjit as torch

OTHERS = [None, "eos", [1, 2], (1, 2), object()]


@pytest.mark.parametrize("other", OTHERS, ids=lambda o: type(o).__name__)
def test_equality_with_a_non_number_falls_back_to_identity(other):
    t = torch.tensor([1, 2])
    assert (t == other) is False
    assert (t != other) is True
    assert (other == t) is False


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_ordering_with_none_is_pythons_type_error(op):
    t = torch.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=f"'{op}' not supported between instances of 'Tensor' "
                                        "and 'NoneType'"):
        eval(f"t {op} None")


def test_named_comparisons_still_refuse_none():
    t = torch.tensor([1, 2])
    with pytest.raises(TypeError, match="eq"):
        t.eq(None)
    with pytest.raises(TypeError, match="ne"):
        torch.ne(t, None)


def test_numbers_and_tensors_still_compare_elementwise():
    t = torch.tensor([1, 2])
    assert (t == 1).tolist() == [True, False]
    assert (t != torch.tensor([1, 3])).tolist() == [False, True]
    assert (t > 1.5).tolist() == [False, True]


def _generate(model, idx, steps, eos_id=None):
    """The book's sampling loop, shortened: top-k logits, temperature, multinomial, stop at
    eos_id when one is given."""
    for _ in range(steps):
        with torch.no_grad():
            logits = model(idx)[:, -1, :]
        top, _ = torch.topk(logits, 3)
        logits = torch.where(logits < top[:, -1:], torch.tensor(float("-inf")), logits)
        probs = torch.softmax(logits / 1.4, dim=-1)
        idx_next = torch.multinomial(probs, num_samples=1)
        if idx_next == eos_id:
            break
        idx = torch.cat((idx, idx_next), dim=1)
    return idx


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_sampling_loop_without_an_end_token_runs_to_length(compiled):
    torch.manual_seed(5)
    model = torch.nn.Sequential(torch.nn.Embedding(7, 4), torch.nn.Linear(4, 7))
    gen = torch.compile(_generate, backend="interpret") if compiled else _generate
    out = gen(model, torch.tensor([[1, 2]]), 4)
    assert out.shape == (1, 6)
