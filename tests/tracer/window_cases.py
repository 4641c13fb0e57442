"""Slices whose bounds come from a loop variable, one table for PyTorch and for stepjit.

Each case is a pattern of real scripts, `fn(T, x, i)` returning a slice of x at step i of a
loop, with the values of i a loop gives it, out-of-range ones included: a last partial batch,
a batch past the end (empty), negative starts crossing zero, an index counted from the end.
tests/fixtures/record_windows.py records PyTorch's slice and the gradient of `(slice * c).sum()`
with respect to x for every i; tests/tracer/test_windows.py runs the same loop compiled (the
bounds read per call, tracer/windows.py) and compares.
"""
import numpy as np

N, BS, BPTT = 23, 4, 5
X = np.random.default_rng(5).standard_normal((N, 3))


def batch(T, x, i):               # nn_tutorial: xb = x_train[start_i:end_i]
    start = i * BS
    return x[start:start + BS]


def bptt(T, x, i):                # word_language_model's get_batch
    seq_len = min(BPTT, len(x) - 1 - i)
    return x[i:i + seq_len]


def from_the_end(T, x, i):        # negative bounds, crossing zero
    return x[i - 6:i - 3]


def strided(T, x, i):             # a step, on the second dimension too
    return x[i:i + 6:2, 1:]


def index(T, x, i):               # an int index, from the end for i < 4
    return x[i - 4]


def column(T, x, i):              # a window of the second dimension
    return x[:, i % 3:i % 3 + 1]


# name -> (fn, the values i takes: a loop's order)
CASES = {
    "batch": (batch, list(range(7))),                      # 5 full, one of 3 rows, one empty
    "bptt": (bptt, list(range(0, N - 1, BPTT))),            # 4 of 5 rows, one of 2
    "from_the_end": (from_the_end, list(range(10))),        # -6:-3 ... 3:6, -3:0 is empty
    "strided": (strided, list(range(0, N, 3))),             # one row at i = 21
    "index": (index, list(range(8))),                       # -4 ... 3
    "column": (column, list(range(6))),
}


def cotangent(shape):
    """The fixed c of `(slice * c).sum()`: distinct values, so a wrong row shows."""
    return (np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) + 1) / 7


def run(T, name, step_fn=None):
    """{f"{name}/{i}/out": the slice, f"{name}/{i}/grad": d/dx (slice * c).sum()} over the loop.
    step_fn(fn, x) -> a function of i (the compiled loop), default: fn itself."""
    fn, values = CASES[name]
    x = T.from_numpy(X.copy()).requires_grad_(True)
    call = step_fn(fn, x) if step_fn else (lambda i: _loss(T, fn, x, i))
    out = {}
    for i in values:
        x.grad = None
        piece = call(i)
        out[f"{name}/{i}/out"] = piece.detach().numpy().copy()
        out[f"{name}/{i}/grad"] = x.grad.numpy().copy()
    return out


def _loss(T, fn, x, i):
    piece = fn(T, x, i)
    (piece * T.from_numpy(cotangent(tuple(piece.shape)))).sum().backward()
    return piece
