"""A step sent to per-call mode by printing on consecutive calls goes back to its trace tree
once it stops printing (runtime/compiled.py, _back_to_tree): dlwpt's training loop prints on
epochs 1-3 and then every 500th, and ran 2,998 of its 3,000 calls eagerly."""
import warnings

import numpy as np

import stepjit as torch


def _training(compiled, capsys, calls=100):
    torch.manual_seed(0)
    w = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)
    x = torch.randn(32, 3, dtype=torch.float64)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64)
    opt = torch.optim.SGD([w], lr=0.05)

    def step(epoch):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
        if epoch <= 3 or epoch == 60:
            print(f"Epoch {epoch}, loss {loss.item():.6f}")
        return loss

    f = torch.compile(step) if compiled else step
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        losses = [float(f(epoch)) for epoch in range(1, calls + 1)]
    lines = capsys.readouterr().out.splitlines()
    return f, losses, lines, w.detach().numpy().copy()


def test_a_step_that_stops_printing_replays_again_and_matches_eager(capsys):
    _, e_losses, e_lines, e_w = _training(False, capsys)
    f, c_losses, c_lines, c_w = _training(True, capsys)
    assert c_lines == e_lines and len(c_lines) == 4
    np.testing.assert_allclose(c_losses, e_losses, rtol=1e-12)   # (fused sums: an ulp)
    np.testing.assert_allclose(c_w, e_w, rtol=1e-12)
    stats = f.stats()
    assert f.mode == "tree"
    # per-call for the first prints, back to the tree after 8 calls, one call traced for the
    # print at epoch 60
    assert stats["eager_calls"] <= 10, stats

