"""An int kept in a list item and bumped by the step (`seen[0] += len(x)`, a trainer's
`self.counts[1] += 1`, a closure's one-item list standing in for `nonlocal`): read per call from
its first change, as an int in a dict or a cell is (values.liftable, symbolic.py), and what the
step leaves there computed by the graph and written back after every call. It was guarded on
its value, so a step that bumped one traced on every call (1 trace, then 19 of 20 calls run
eagerly). Every call is compared with eager (float64, interpret backend: bit for bit)."""
import stepjit as torch

CALLS = 20


class Trainer:
    pass


def _loop(compiled, use):
    torch.manual_seed(0)
    w = torch.randn(4, dtype=torch.float64, requires_grad=True)
    xs = torch.randn(CALLS, 6, 4, dtype=torch.float64)
    t = Trainer()
    t.counts = [0, 0]
    seen = [0]

    def step(x):
        loss = (x @ w).pow(2).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad = None
        seen[0] += x.shape[0]
        t.counts[1] += 1
        if use == "branch" and t.counts[1] % 5 == 0:   # (a decision on its outcome)
            loss = loss * 2
        if use == "index":     # (a window start read per call, windows.py)
            loss = loss + x[t.counts[1] % 6].sum()
        return loss
    f = torch.compile(step, backend="interpret") if compiled else step
    out = []
    for i in range(CALLS):
        if i == 12:
            seen[0] = 0    # (the loop resets it: read, not replayed)
        loss = f(xs[i])
        out.append((loss.item(), seen[0], type(seen[0]), list(t.counts),
                    w.detach().numpy().tolist()))
    return out, f


def test_ints_bumped_in_list_items_are_read_per_call():
    for use in ("count", "branch", "index"):
        want, _ = _loop(False, use)
        got, f = _loop(True, use)
        assert got == want, use
        st = f.stats()
        # the first call, then the counters read per call (and a branch's other outcome)
        assert st["eager_calls"] == 0 and st["fallbacks"] == 0 and st["mode"] == "tree", st
        assert st["traces"] <= 3, (use, st)
