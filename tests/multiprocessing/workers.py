"""Functions the multiprocessing tests run in child processes (importable by name, as spawn
needs)."""
import stepjit
import stepjit.nn.functional as F


def batches(rank, n=4):
    g = stepjit.Generator().manual_seed(100 + rank)
    return [(stepjit.randn(8, 3, generator=g), stepjit.randint(0, 2, (8,), generator=g))
            for _ in range(n)]


def train(rank, model, compiled=False):
    """SGD steps on the model the parent shares (mnist_hogwild's train loop, in small)."""
    opt = stepjit.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()

    run = stepjit.compile(step) if compiled else step
    for x, y in batches(rank):
        run(x, y)


def add_rank(rank, t):
    t[rank] += rank + 1


def increment_from_queue(queue, done):
    t = queue.get()
    t.add_(1.0)
    done.put(float(t.sum()))


def fail(rank):
    if rank == 1:
        raise ValueError("worker one failed on purpose")


def exit_code(rank):
    raise SystemExit(3)
