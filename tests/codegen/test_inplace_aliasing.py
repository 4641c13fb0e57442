"""In-place writes must respect views: a parameter updated in place while a view of it
(reshape, transpose) is still read later must not be written early. Found by the cpu fuzzer."""
import numpy as np

from tests.regression.fuzz_programs import Spec, build
import stepjit as torch


def _run(compiled):
    spec = Spec(2, 1, (("rows", 0, (1, 1)), ("matmul", 2), ("binary", "where_gt", 3, 2)),
                (4, 6, 7), "sgd")
    step, args, params = build(spec)
    fn = torch.compile(step, backend="cpu") if compiled else step
    losses = [fn(*args).item() for _ in range(3)]
    return losses, [p.detach().numpy().copy() for p in params]


def test_update_waits_for_readers_of_views_of_the_old_value():
    e_losses, e_params = _run(False)
    c_losses, c_params = _run(True)
    np.testing.assert_allclose(c_losses, e_losses, rtol=1e-5)
    for a, b in zip(c_params, e_params):
        np.testing.assert_allclose(a, b, rtol=1e-5)
