"""torch.utils.checkpoint: values and gradients as without checkpointing (stepjit keeps the
activations instead of recomputing them), against NumPy's closed forms."""
import numpy as np

import stepjit as torch
from stepjit.utils.checkpoint import checkpoint, checkpoint_sequential


def test_checkpoint_gives_the_function_its_args_and_gradients_flow():
    x = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    y = checkpoint(lambda a, scale: (a.sin() * scale).sum(), x, 3.0, use_reentrant=False)
    y.backward()
    np.testing.assert_allclose(y.item(), 3 * np.sin([0.5, 1.5]).sum(), rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.cos([0.5, 1.5]), rtol=1e-15)


def test_checkpoint_sequential_applies_the_modules_in_order():
    seq = torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Sigmoid())
    x = torch.tensor([0.25, -1.0], dtype=torch.float64)
    want = 1 / (1 + np.exp(-np.tanh([0.25, -1.0])))
    np.testing.assert_allclose(checkpoint_sequential(seq, 2, x).numpy(), want, rtol=1e-15)
    np.testing.assert_allclose(checkpoint_sequential(list(seq), 1, x).numpy(), want, rtol=1e-15)
