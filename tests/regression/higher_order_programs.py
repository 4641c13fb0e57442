"""Small training programs that need higher-order gradients, written against a torch-shaped
module T (torch when tests/fixtures/record_higher.py records them, stepjit in the tests):

  wgan_gp   a critic and a generator trained with WGAN-GP: the penalty is the gradient of the
            critic at interpolates, taken with create_graph, inside the critic's loss
  newton    truncated Newton on a small classifier: conjugate gradients over Hessian-vector
            products (the gradient's vjp), plus a power iteration for the top eigenvalue
  maml      MAML: inner SGD steps with create_graph, the outer loss backpropagated through them
  pinn      a physics-informed net for u'' = -pi^2 sin(pi x): u_x and u_xx by autograd.grad

Weights and data come from NumPy, so both sides start equal; each returns its losses per step
and its final weights. `compile=True` (stepjit only) runs each step through stepjit.compile.
"""
import numpy as np


def _init(T, module, seed):
    module.double()
    rng = np.random.default_rng(seed)
    with T.no_grad():
        for _, p in module.named_parameters():
            p.copy_(T.from_numpy(rng.uniform(-0.5, 0.5, tuple(p.shape))))
    return module


def _params(module):
    return {n: p.detach().numpy().copy() for n, p in module.named_parameters()}


COMPILED = []   # the compiled steps made, for the tests to read their stats


def _maybe_compile(T, step, compile):
    if not compile:
        return step
    COMPILED.append(T.compile(step))
    return COMPILED[-1]


def wgan_gp(T, compile=False, steps=4):
    nn = T.nn
    critic = _init(T, nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)), 1)
    gen = _init(T, nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)), 2)
    opt_c = T.optim.Adam(critic.parameters(), lr=1e-2, betas=(0.5, 0.9))
    opt_g = T.optim.Adam(gen.parameters(), lr=1e-2, betas=(0.5, 0.9))
    rng = np.random.default_rng(3)

    def critic_step(real, z, alpha):
        opt_c.zero_grad()
        fake = gen(z).detach()
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        (slope,) = T.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
        penalty = ((slope.norm(2, dim=1) - 1) ** 2).mean()
        loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
        loss.backward()
        opt_c.step()
        return loss.detach(), penalty.detach()

    def generator_step(z):
        opt_g.zero_grad()
        loss = -critic(gen(z)).mean()
        loss.backward()
        opt_g.step()
        return loss.detach()

    critic_step = _maybe_compile(T, critic_step, compile)
    losses = []
    for _ in range(steps):
        real = T.from_numpy(rng.normal(1.0, 0.3, (6, 2)))
        z = T.from_numpy(rng.standard_normal((6, 3)))
        alpha = T.from_numpy(rng.uniform(0, 1, (6, 1)))
        c_loss, penalty = critic_step(real, z, alpha)
        g_loss = generator_step(z)
        losses.append([c_loss.item(), penalty.item(), g_loss.item()])
    out = {"losses": np.array(losses)}
    out.update({f"critic.{k}": v for k, v in _params(critic).items()})
    return out


def newton(T, compile=False, steps=3):
    """Truncated Newton (a few CG iterations on H d = -g) for a tiny classifier."""
    nn = T.nn
    model = _init(T, nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), 4)
    rng = np.random.default_rng(5)
    x = T.from_numpy(rng.standard_normal((10, 3)))
    y = T.from_numpy(rng.integers(0, 2, 10))
    params = list(model.parameters())

    def hvp(grads, v):
        dot = sum((g * u).sum() for g, u in zip(grads, v))
        return T.autograd.grad(dot, params, retain_graph=True)

    losses, eigs = [], []
    for _ in range(steps):
        loss = T.nn.functional.cross_entropy(model(x), y)
        grads = T.autograd.grad(loss, params, create_graph=True)
        # conjugate gradients for (H + damping) d = -g, from d = 0
        d = [T.zeros_like(p) for p in params]
        r = [-g.detach() for g in grads]
        p_dir = [t.clone() for t in r]
        rr = sum((t * t).sum() for t in r)
        for _ in range(4):
            hp = [h + 0.1 * q for h, q in zip(hvp(grads, p_dir), p_dir)]
            a = rr / sum((q * h).sum() for q, h in zip(p_dir, hp))
            d = [di + a * q for di, q in zip(d, p_dir)]
            r = [ri - a * h for ri, h in zip(r, hp)]
            rr_new = sum((t * t).sum() for t in r)
            p_dir = [ri + (rr_new / rr) * q for ri, q in zip(r, p_dir)]
            rr = rr_new
        # the largest Hessian eigenvalue by power iteration (PyHessian's way)
        v = [T.ones_like(p) for p in params]
        for _ in range(5):
            hv = hvp(grads, v)
            norm = sum((h * h).sum() for h in hv).sqrt()
            v = [h / norm for h in hv]
        eig = sum((h * u).sum() for h, u in zip(hvp(grads, v), v))
        with T.no_grad():
            for p, di in zip(params, d):
                p.add_(di)
        losses.append(loss.item())
        eigs.append(eig.item())
    out = {"losses": np.array(losses), "eigs": np.array(eigs)}
    out.update(_params(model))
    return out


def maml(T, compile=False, steps=3):
    """Sine-wave regression MAML: two inner SGD steps per task, outer Adam on the meta weights."""
    nn = T.nn
    model = _init(T, nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)), 6)
    names = [n for n, _ in model.named_parameters()]
    meta_opt = T.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(7)

    def forward(weights, x):
        h = T.tanh(T.nn.functional.linear(x, weights[0], weights[1]))
        return T.nn.functional.linear(h, weights[2], weights[3])

    def meta_step(xs, ys, xq, yq):
        meta_opt.zero_grad()
        total = 0.0
        for t in range(xs.shape[0]):
            weights = [dict(model.named_parameters())[n] for n in names]
            for _ in range(2):
                inner = T.nn.functional.mse_loss(forward(weights, xs[t]), ys[t])
                grads = T.autograd.grad(inner, weights, create_graph=True)
                weights = [w - 0.1 * g for w, g in zip(weights, grads)]
            total = total + T.nn.functional.mse_loss(forward(weights, xq[t]), yq[t])
        total = total / xs.shape[0]
        total.backward()
        meta_opt.step()
        return total.detach()

    meta_step = _maybe_compile(T, meta_step, compile)
    losses = []
    for _ in range(steps):
        amp = rng.uniform(0.5, 2.0, (2, 1, 1))
        phase = rng.uniform(0, np.pi, (2, 1, 1))
        xs_np, xq_np = rng.uniform(-3, 3, (2, 5, 1)), rng.uniform(-3, 3, (2, 5, 1))
        xs, xq = T.from_numpy(xs_np), T.from_numpy(xq_np)
        ys, yq = T.from_numpy(amp * np.sin(xs_np + phase)), T.from_numpy(amp * np.sin(xq_np + phase))
        losses.append(meta_step(xs, ys, xq, yq).item())
    out = {"losses": np.array(losses)}
    out.update(_params(model))
    return out


def pinn(T, compile=False, steps=4):
    """u'' + pi^2 sin(pi x) = 0 on [-1, 1], u(+-1) = 0: the residual needs u_xx."""
    nn = T.nn
    net = _init(T, nn.Sequential(nn.Linear(1, 10), nn.Tanh(), nn.Linear(10, 10), nn.Tanh(),
                                 nn.Linear(10, 1)), 8)
    opt = T.optim.Adam(net.parameters(), lr=5e-3)
    x_np = np.linspace(-1, 1, 9).reshape(-1, 1)
    edges = T.from_numpy(np.array([[-1.0], [1.0]]))

    def step(x):
        opt.zero_grad()
        x = x.clone().requires_grad_(True)
        u = net(x)
        (u_x,) = T.autograd.grad(u.sum(), x, create_graph=True)
        (u_xx,) = T.autograd.grad(u_x.sum(), x, create_graph=True)
        residual = u_xx + np.pi ** 2 * T.sin(np.pi * x)
        loss = (residual ** 2).mean() + (net(edges) ** 2).mean()
        loss.backward()
        opt.step()
        return loss.detach()

    step = _maybe_compile(T, step, compile)
    losses = [step(T.from_numpy(x_np)).item() for _ in range(steps)]
    out = {"losses": np.array(losses)}
    out.update(_params(net))
    return out


PROGRAMS = {"wgan_gp": wgan_gp, "newton": newton, "maml": maml, "pinn": pinn}
