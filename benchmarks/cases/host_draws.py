"""A GAN step that draws its noise with NumPy's global stream, as single-file GAN scripts do.

An MLP generator (latent 64 -> 128 -> 256, tanh) and discriminator (256 -> 128 -> 1, sigmoid),
batch 32, BCE, Adam for both, one generator and one discriminator update per step, the noise
drawn inside the step: `Tensor(np.random.normal(0, 1, (imgs.shape[0], latent)))`. Compiled,
the draw is an input of the trace made again on every call (tracer/draws.py), so the step is
traced once and replayed; before, the draw made it retrace on every call. Each call seeds
NumPy first (in every variant alike), so the variants draw the same numbers. Baseline: the same
step in stepjit eager.
"""
import itertools

import numpy as np

from ..harness import Case
from ._examples import eager_compiled_torch, framework

BATCH, LATENT, HIDDEN, PIXELS, N_BATCHES = 32, 64, 128, 256, 8


def _data():
    rng = np.random.RandomState(0)
    return np.tanh(rng.standard_normal((N_BATCHES, BATCH, PIXELS))).astype(np.float32)


def _setup(name, compiled=False):
    def setup():
        fw = framework(name)
        nn = fw.nn
        fw.manual_seed(0)
        G = nn.Sequential(nn.Linear(LATENT, HIDDEN), nn.LeakyReLU(0.2),
                          nn.Linear(HIDDEN, PIXELS), nn.Tanh())
        D = nn.Sequential(nn.Linear(PIXELS, HIDDEN), nn.LeakyReLU(0.2),
                          nn.Linear(HIDDEN, 1), nn.Sigmoid())
        rng = np.random.RandomState(1)
        with fw.no_grad():     # the same weights in every framework
            for p in [*G.parameters(), *D.parameters()]:
                p.copy_(fw.from_numpy((rng.standard_normal(tuple(p.shape)) * 0.1)
                                      .astype(np.float32)))
        loss_fn = nn.BCELoss()
        opt_g = fw.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_d = fw.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        Tensor = fw.FloatTensor
        batches = [fw.from_numpy(b) for b in _data()]

        def train_step(imgs):
            valid = Tensor(imgs.size(0), 1).fill_(1.0)
            fake = Tensor(imgs.size(0), 1).fill_(0.0)
            opt_g.zero_grad()
            z = Tensor(np.random.normal(0, 1, (imgs.shape[0], LATENT)))
            gen_imgs = G(z)
            g_loss = loss_fn(D(gen_imgs), valid)
            g_loss.backward()
            opt_g.step()
            opt_d.zero_grad()
            d_loss = (loss_fn(D(imgs), valid) + loss_fn(D(gen_imgs.detach()), fake)) / 2
            d_loss.backward()
            opt_d.step()
            return d_loss
        run = fw.compile(train_step, backend="cpu") if compiled else train_step
        calls = itertools.count()

        def call():
            k = next(calls) % N_BATCHES
            np.random.seed(k)     # (every variant draws the same noise for batch k)
            return run(batches[k])
        return call
    return setup


CASE = Case(
    name="host_draws",
    description=f"GAN step drawing its noise with np.random.normal inside the step: MLP "
                f"G {LATENT}-{HIDDEN}-{PIXELS}, D {PIXELS}-{HIDDEN}-1, batch {BATCH}, BCE, two "
                "Adam updates; baseline: stepjit eager",
    baseline="stepjit eager",
    variants=eager_compiled_torch(_setup),
)
