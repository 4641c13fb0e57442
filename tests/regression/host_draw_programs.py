"""GAN training steps that draw their noise, labels and mixing weights with NumPy's global
stream inside the step, as single-file GAN collections write them (a conditional GAN with a
least-squares loss; a WGAN with gradient penalty whose generator trains every other step), run
on a torch-shaped module `T` (stepjit, or PyTorch by tests/fixtures/record_host_draws.py).

Each program returns its losses at every step as floats, then one more number drawn from
NumPy's stream after training: where the stream stands, which a compiled step that drew once
too often or too few would move. Weights come from a seeded RandomState, everything is
float64, so PyTorch's recorded numbers are a reference for stepjit's. `wrap` is applied to the
training step.
"""
from __future__ import annotations

import numpy as np

from .heldout_programs import _identity, _set_weights

STEPS = 6
LATENT, CLASSES, PIXELS, HIDDEN, BATCH = 5, 3, 8, 12, 4


def _real_batches(seed):
    rng = np.random.RandomState(seed)
    return [(np.tanh(rng.standard_normal((BATCH, PIXELS))), rng.randint(0, CLASSES, BATCH))
            for _ in range(3)]


def _mlp(T, n_in, n_out, last):
    nn = T.nn
    return nn.Sequential(nn.Linear(n_in, HIDDEN), nn.LeakyReLU(0.2, inplace=True),
                         nn.Linear(HIDDEN, n_out), last)


def conditional_gan(T, wrap=_identity, steps=STEPS):
    """Labels embedded and concatenated to the noise (generator) and to the image
    (discriminator); MSE against ones and zeros; Adam(betas=(0.5, 0.999)) for both."""
    nn = T.nn

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.label_emb = nn.Embedding(CLASSES, CLASSES)
            self.body = _mlp(T, LATENT + CLASSES, PIXELS, nn.Tanh())

        def forward(self, noise, labels):
            return self.body(T.cat((self.label_emb(labels), noise), -1))

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.label_emb = nn.Embedding(CLASSES, CLASSES)
            self.body = _mlp(T, PIXELS + CLASSES, 1, nn.Identity())

        def forward(self, img, labels):
            return self.body(T.cat((img.view(img.size(0), -1), self.label_emb(labels)), -1))

    G, D = Generator().double(), Discriminator().double()
    _set_weights(T, G, 1, scale=0.3)
    _set_weights(T, D, 2, scale=0.3)
    adversarial = nn.MSELoss()
    opt_g = T.optim.Adam(G.parameters(), lr=0.01, betas=(0.5, 0.999))
    opt_d = T.optim.Adam(D.parameters(), lr=0.01, betas=(0.5, 0.999))
    Tensor, LongTensor = T.DoubleTensor, T.LongTensor

    @wrap
    def step(imgs, labels):
        n = imgs.shape[0]
        valid = Tensor(n, 1).fill_(1.0)
        fake = Tensor(n, 1).fill_(0.0)
        opt_g.zero_grad()
        z = Tensor(np.random.normal(0, 1, (n, LATENT)))
        gen_labels = LongTensor(np.random.randint(0, CLASSES, n))
        gen_imgs = G(z, gen_labels)
        g_loss = adversarial(D(gen_imgs, gen_labels), valid)
        g_loss.backward()
        opt_g.step()
        opt_d.zero_grad()
        real_loss = adversarial(D(imgs, labels), valid)
        fake_loss = adversarial(D(gen_imgs.detach(), gen_labels), fake)
        d_loss = (real_loss + fake_loss) / 2
        d_loss.backward()
        opt_d.step()
        return g_loss, d_loss

    np.random.seed(5)
    batches = _real_batches(6)
    losses = []
    for i in range(steps):
        imgs, labels = batches[i % len(batches)]
        g, d = step(T.tensor(imgs), T.tensor(labels))
        losses += [g.item(), d.item()]
    return losses + [float(np.random.random())]


def wgan_gp(T, wrap=_identity, steps=STEPS, n_critic=2):
    """A critic trained every step with a gradient penalty on points mixed between real and
    generated images by weights drawn per step; the generator every n_critic steps."""
    nn = T.nn
    G = _mlp(T, LATENT, PIXELS, nn.Tanh()).double()
    D = _mlp(T, PIXELS, 1, nn.Identity()).double()
    _set_weights(T, G, 3, scale=0.3)
    _set_weights(T, D, 4, scale=0.3)
    opt_g = T.optim.Adam(G.parameters(), lr=0.005, betas=(0.5, 0.999))
    opt_d = T.optim.Adam(D.parameters(), lr=0.005, betas=(0.5, 0.999))
    Tensor = T.DoubleTensor

    def gradient_penalty(real, fake):
        alpha = Tensor(np.random.random((real.size(0), 1)))
        mixed = (alpha * real + ((1 - alpha) * fake)).requires_grad_(True)
        d_mixed = D(mixed)
        grads = T.autograd.grad(outputs=d_mixed, inputs=mixed,
                                grad_outputs=T.ones(real.shape[0], 1, dtype=T.float64),
                                create_graph=True, retain_graph=True, only_inputs=True)[0]
        return ((grads.norm(2, dim=1) - 1) ** 2).mean()

    @wrap
    def step(imgs, train_generator):
        opt_d.zero_grad()
        z = Tensor(np.random.normal(0, 1, (imgs.shape[0], LATENT)))
        fake = G(z)
        d_loss = -T.mean(D(imgs)) + T.mean(D(fake.detach())) + 10 * gradient_penalty(imgs, fake)
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        if not train_generator:
            return d_loss, None
        g_loss = -T.mean(D(G(z)))
        g_loss.backward()
        opt_g.step()
        return d_loss, g_loss

    np.random.seed(7)
    batches = _real_batches(8)
    losses = []
    for i in range(steps):
        d, g = step(T.tensor(batches[i % len(batches)][0]), i % n_critic == 0)
        losses += [d.item()] + ([] if g is None else [g.item()])
    return losses + [float(np.random.random())]


PROGRAMS = {"conditional_gan": conditional_gan, "wgan_gp": wgan_gp}
