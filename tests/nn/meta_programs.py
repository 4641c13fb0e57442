"""The meta-device recipes (PyTorch's "module_load_state_dict_tips" and skip_init), written
against a torch-shaped module T, run by tests/nn/test_meta.py on stepjit and recorded from
PyTorch by tests/fixtures/record_meta.py."""
import io

import numpy as np


def build(T, size=6):
    nn = T.nn

    class SomeModule(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 3, 3, padding=1)
            self.norm = nn.BatchNorm2d(3)
            self.linears = nn.Sequential(*(nn.Linear(size, size) for _ in range(3)))
            self.emb = nn.Embedding(5, size)

        def forward(self, img, tokens):
            h = self.norm(self.conv(img)).mean((2, 3))   # (N, 3)
            h = T.cat([h, h], 1)                         # (N, 6)
            return self.linears(h + self.emb(tokens))
    return SomeModule()


def weights(T, model):
    """Deterministic weights, written in place (the same on both sides)."""
    with T.no_grad():
        for i, (name, t) in enumerate(model.state_dict().items()):
            if t.is_floating_point():
                rng = np.random.default_rng(i)
                t.copy_(T.from_numpy(rng.uniform(-0.5, 0.5, tuple(t.shape))))
    return model


def inputs(T):
    rng = np.random.default_rng(7)
    img = T.from_numpy(rng.standard_normal((2, 2, 4, 4)))
    return img, T.tensor([1, 4])


def recipe(T):
    """Save a checkpoint, build on meta, load with assign=True; run a training step."""
    T.set_default_dtype(T.float64)
    try:
        source = weights(T, build(T))
        buf = io.BytesIO()
        T.save(source.state_dict(), buf)
        buf.seek(0)
        state = T.load(buf, weights_only=True)
        with T.device("meta"):
            model = build(T)
        meta_out = model(T.empty(2, 2, 4, 4, device="meta"), T.tensor([0, 1], device="meta"))
        model.load_state_dict(state, assign=True)
        opt = T.optim.SGD(model.parameters(), lr=0.1)
        out = model(*inputs(T))
        out.square().mean().backward()
        opt.step()
        return {"meta_shape": np.array(meta_out.shape), "out": out.detach().numpy(),
                "w_after": model.linears[0].weight.detach().numpy(),
                "requires_grad": np.array([p.requires_grad for p in model.parameters()]),
                "running_mean": model.norm.running_mean.numpy()}
    finally:
        T.set_default_dtype(T.float32)


def to_empty_then_load(T):
    """skip_init / to_empty then an ordinary (copying) load_state_dict."""
    T.set_default_dtype(T.float64)
    try:
        source = weights(T, build(T))
        lin = T.nn.utils.skip_init(T.nn.Linear, 6, 6)
        lin.load_state_dict(source.linears[1].state_dict())
        with T.device("meta"):
            model = build(T)
        model.to_empty(device="cpu")
        model.load_state_dict(source.state_dict())
        model.eval()
        return {"out": model(*inputs(T)).detach().numpy(),
                "lin": lin(T.ones(1, 6, dtype=T.float64)).detach().numpy()}
    finally:
        T.set_default_dtype(T.float32)


PROGRAMS = {"recipe": recipe, "to_empty_then_load": to_empty_then_load}
