"""The engine's eager shortcuts against what they stand for: the backward seed made without the
factory (dispatch.ones_fast vs ones_like) and the accumulation into an existing .grad."""
import numpy as np
import pytest

import stepjit as torch
from stepjit import dispatch

pytestmark = pytest.mark.usefixtures("backward_path", "forward_path")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_seed_is_ones_like(shape, dtype):
    t = torch.zeros(shape, dtype=dtype)
    fast, slow = dispatch.ones_fast(t), torch.ones_like(t)
    assert fast.dtype is slow.dtype and fast.shape == slow.shape and not fast.requires_grad
    assert fast.numpy().tobytes() == slow.numpy().tobytes()
    assert fast._owns_storage() == slow._owns_storage()


@pytest.mark.parametrize("shape", [(), (2, 3)])
def test_seed_is_a_fresh_array_every_call(shape):
    """ones_fast copies a template made once per shape and dtype: every seed is its own
    writable storage, so writing one (a hook's in-place change, a leaf root's .grad) leaves
    the next seed at ones."""
    t = torch.zeros(shape)
    first = dispatch.ones_fast(t)
    first.numpy()[...] = 5.0
    second = dispatch.ones_fast(t)
    assert second._data is not first._data and second._owns_storage()
    assert second.numpy().tobytes() == torch.ones_like(t).numpy().tobytes()
    assert second._data.flags.c_contiguous
    leaf = torch.ones(shape, requires_grad=True)
    leaf.backward() if leaf.numel() == 1 else leaf.sum().backward()
    leaf.grad.add_(1)
    assert dispatch.ones_fast(t).numpy().tobytes() == torch.ones_like(t).numpy().tobytes()


def test_seed_defers_to_the_factory_while_tracing(monkeypatch):
    t = torch.zeros(())
    monkeypatch.setattr(dispatch.MODE, "tracer", object())
    assert dispatch.ones_fast(t) is None


def test_non_scalar_root_needs_a_gradient():
    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (x * 2).backward()
    (x * 2).sum().backward()
    (x[:1] * 2).backward()   # one element, one dimension: allowed
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 2.0])


def test_accumulation_adds_in_place_across_backwards():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    grad = x.grad
    version = grad._version.value
    (x * x).sum().backward()
    assert x.grad is grad and grad._version.value == version + 1
    np.testing.assert_array_equal(grad.numpy(), [5.0, 7.0])


def test_accumulation_with_grad_mode_turned_on_by_a_hook():
    """A hook that turns grad mode on: the add into .grad goes through add_ as before."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x.grad = torch.tensor([1.0, 1.0])

    def hook(g):
        torch.set_grad_enabled(True)
        return g
    x.register_hook(hook)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


def test_accumulation_into_a_float64_grad_of_a_broadcast_gradient():
    x = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    b = torch.ones(3, dtype=torch.float64, requires_grad=True)
    for _ in range(2):
        (x + b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))


def test_one_root_shortcut_matches_the_generic_roots():
    """loss.backward() (one 0-d root, seed from ones_fast, no comprehension frames in the engine)
    against the same backward given its seed explicitly, and two roots where one feeds the other
    (a root node that is not ready at the start)."""
    def grads(run):
        x = torch.tensor([1.5, -2.0, 3.0], requires_grad=True)
        y = x * x
        z = (y * 3).sum()
        run(y, z)
        return x.grad.numpy().tobytes()
    short = grads(lambda y, z: z.backward())
    assert short == grads(lambda y, z: torch.autograd.backward([z], [torch.tensor(1.0)]))
    x = torch.tensor([1.5, -2.0], requires_grad=True)
    y = x * 2
    z = (y * 3).sum()
    torch.autograd.backward([z, y], [torch.tensor(1.0), torch.ones(2)])
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 8.0])
    leaf = torch.tensor(2.0, requires_grad=True)
    leaf.backward()
    assert leaf.grad.item() == 1.0


def test_grad_accepts_the_deprecated_only_inputs_flag():
    # Gradient-penalty code passes only_inputs=True; PyTorch ignores it (warning only when
    # False), so both spellings give the same gradient of a gradient norm.
    import warnings
    x = torch.tensor([[0.3, -0.7], [1.1, 0.2]], requires_grad=True)
    w = torch.tensor([[0.5], [-2.0]], requires_grad=True)
    out = (x @ w).tanh()
    (g,) = torch.autograd.grad(out, x, grad_outputs=torch.ones_like(out),
                                 create_graph=True, retain_graph=True, only_inputs=True)
    penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    assert w.grad is not None and x.grad is not None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (g2,) = torch.autograd.grad((x * x).sum(), x, only_inputs=False)
    assert g2.tolist() == (2 * x.detach()).tolist()
    assert any("only_inputs argument is deprecated" in str(c.message) for c in caught)
