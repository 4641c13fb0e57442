"""masked_fill / masked_fill_ take boolean masks only, as PyTorch 2 does. A uint8 mask (what
PyTorch 0.4-era code builds with `mask.byte()`, e.g. an attention mask filled with -inf)
is refused with an error that names masked_fill, the dtypes and shapes, and the user's line,
and leaves the tensor unchanged."""
import numpy as np
import pytest

import stepjit as torch


def scores():
    return torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def pad_mask():
    m = torch.zeros(2, 3)
    m[0, 2] = 1
    return m


@pytest.mark.parametrize("call", [
    lambda e, m: e.masked_fill(m.byte(), -float("inf")),
    lambda e, m: e.masked_fill_(m.byte(), -float("inf")),
    lambda e, m: e.data.masked_fill_(m.byte(), -float("inf")),
    lambda e, m: torch.masked_fill(e, m.to(torch.int64), 0.0),
])
def test_non_bool_mask_is_refused_naming_masked_fill(call):
    e = scores()
    with pytest.raises(RuntimeError, match=r"masked_fill only supports boolean masks, but got "
                                           r"mask with dtype (uint8|int64) .*test_masked_fill"):
        call(e, pad_mask())
    np.testing.assert_array_equal(e.numpy(), scores().numpy())


def test_bool_mask_fills_and_differentiates():
    e = scores().requires_grad_()
    out = e.masked_fill(pad_mask().bool(), -float("inf")).softmax(dim=1)
    out[:, 0].sum().backward()
    assert out[0, 2].item() == 0.0 and e.grad[0, 2].item() == 0.0
    np.testing.assert_allclose(out.sum(dim=1).detach().numpy(), [1.0, 1.0], rtol=1e-6)


def test_compiled_step_refuses_the_same_mask():
    @torch.compile(backend="interpret")
    def step(e, m):
        return e.masked_fill(m, 0.0).sum()

    with pytest.raises(RuntimeError, match="masked_fill only supports boolean masks"):
        step(scores(), pad_mask().byte())
    eager = scores().masked_fill(pad_mask().bool(), 0.0).sum().item()
    assert eager == pytest.approx(0.5)   # -0.5 + 1.0: the filled element is the 2.0
    assert step(scores(), pad_mask().bool()).item() == eager
