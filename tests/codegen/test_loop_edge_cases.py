"""Loop codegen edge cases, each compiled on cpu and compared with eager: reductions naming
every dim, keepdim, 0-dim operands, broadcasting from size-1 dims, ints and bools."""
import numpy as np
import pytest

import stepjit as torch

X = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)

CASES = {
    "sum_all_dims_listed": lambda x: x.sum(dim=(0, 1)),
    "sum_keepdim": lambda x: (x * 2).sum(dim=1, keepdim=True),
    "amax_axis0": lambda x: x.exp().amax(dim=0),
    "mean_then_broadcast": lambda x: x - x.mean(dim=1, keepdim=True),
    "zero_dim_operand": lambda x: x * x.sum(),
    "broadcast_row_col": lambda x: x[:, :1] + x[:1, :],
    "bool_and_where": lambda x: torch.where((x > 0) & (x < 1.5), x, -x),
    "int_compare": lambda x: (x.long() * 2 > 1).float(),
    "clamp_both": lambda x: x.clamp(-1.0, 0.5).sigmoid(),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loop_matches_eager(name):
    fn = CASES[name]
    x = torch.tensor(X)
    expected = fn(x).numpy()
    got = torch.compile(fn, backend="cpu")(x).numpy()
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_fuzz_found_stacked_sum_of_scalars():
    """A chain of scalar adds lowered to a stack and a sum over every dim (found by the fuzzer)."""
    from tests.regression.fuzz_programs import Spec, build
    spec = Spec(2, 3, (("masked_fill", 2, -1.0), ("masked_fill", 1, -1.0), ("matmul", 2)),
                (4, 5, 7), "manual")

    def run(compiled):
        step, args, params = build(spec)
        fn = torch.compile(step, backend="cpu") if compiled else step
        return [fn(*args).item() for _ in range(3)], [p.detach().numpy().copy() for p in params]

    (el, ep), (cl, cp) = run(False), run(True)
    np.testing.assert_allclose(cl, el, rtol=1e-5)
    for a, b in zip(cp, ep):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
