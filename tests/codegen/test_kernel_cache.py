"""The kernel cache: structurally equal groups share one kernel, a new batch size compiles
nothing, a second process loads instead of compiling, and a corrupt entry is rebuilt."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np

import stepjit as torch
from stepjit.codegen import kernels

SCRIPT = textwrap.dedent("""
    import json, sys, numpy as np, stepjit as torch
    from stepjit.codegen import kernels
    w = torch.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3), requires_grad=True)

    @torch.compile(backend="cpu")
    def step(x):
        loss = (x @ w).tanh().pow(2).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss

    x = torch.tensor(np.linspace(0, 1, 20, dtype=np.float32).reshape(5, 4))
    losses = [step(x).item() for _ in range(3)]
    print(json.dumps({"losses": losses, "w": w.detach().numpy().tolist(),
                      "numba": "numba" in sys.modules, **kernels.STATS}))
""")


def _run(cache, extra_env=None):
    env = dict(os.environ, STEPJIT_CACHE_DIR=str(cache), **(extra_env or {}))
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _eager():
    """SCRIPT run eagerly: (losses, w after the steps)."""
    ns = {}
    exec(SCRIPT.replace('@torch.compile(backend="cpu")', "").replace("print(json.dumps(", "_ = (("),
         ns)
    return ns["losses"], ns["w"].detach().numpy()


def test_second_process_loads_and_corrupt_entries_are_rebuilt(tmp_path):
    cold = _run(tmp_path)
    assert cold["compiled"] > 0 and cold["loaded"] == 0
    warm = _run(tmp_path)
    assert warm["compiled"] == 0 and warm["loaded"] == cold["compiled"]
    np.testing.assert_allclose(warm["losses"], cold["losses"], rtol=1e-6)
    np.testing.assert_allclose(cold["losses"], _eager()[0], rtol=1e-5)
    # Truncate every cached file: modules and Numba's index and machine code.
    kdir = tmp_path / "kernels"
    for root, _, files in os.walk(kdir):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "r+b") as fh:
                fh.truncate(max(0, os.path.getsize(p) // 3))
    rebuilt = _run(tmp_path)
    np.testing.assert_allclose(rebuilt["losses"], cold["losses"], rtol=1e-6)


def test_two_processes_compiling_at_once(tmp_path):
    env = dict(os.environ, STEPJIT_CACHE_DIR=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    np.testing.assert_allclose(results[0]["losses"], results[1]["losses"], rtol=1e-6)


def test_new_batch_size_compiles_no_kernel():
    w = torch.ones(3, 2, requires_grad=True)

    @torch.compile(backend="cpu")
    def step(x):
        loss = (x @ w).relu().sum()
        loss.backward()
        return loss

    step(torch.ones(4, 3))       # first call: .grad is created
    step(torch.ones(4, 3))       # steady state: .grad accumulates
    traces = step.stats()["traces"]
    before = kernels.STATS["compiled"] + kernels.STATS["loaded"]
    out = step(torch.ones(7, 3))
    assert step.stats()["traces"] == traces + 1          # a new shape is a new trace...
    assert kernels.STATS["compiled"] + kernels.STATS["loaded"] == before   # ...but no new kernel
    assert out.item() == 7 * 2 * 3
    np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 2), 4 + 4 + 7, np.float32))


def test_kernel_keys_change_with_the_helper_modules(monkeypatch):
    """Cached kernels hold the code of the helpers they call (scalar.py, pointers.py, gemm.py),
    which Numba's cache does not check: a stepjit whose helpers changed must miss them."""
    source = "def kernel(a0, o0, n0):\n    for i0 in range(n0):\n        o0[i0] = a0[i0]\n"
    body = "@njit\ndef program(a):\n    return a\n"
    before = kernels.kernel_hash(source, False)
    first, _ = kernels.get_module_function(body, "program")
    assert len(kernels.helpers_digest()) == 16
    monkeypatch.setattr(kernels, "_DIGEST", ["0" * 16])
    assert kernels.kernel_hash(source, False) != before
    again, _ = kernels.get_module_function(body, "program")
    assert again.fname != first.fname
