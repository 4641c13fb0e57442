"""`import torch._inductor.config as config` (llm.c's train_gpt2.py, scripts tuned for
torch.compile) imports under stepjit, with PyTorch's defaults, and setting it changes nothing."""
import importlib

import numpy as np
import pytest

import stepjit

NAMES = ("coordinate_descent_tuning", "max_autotune", "max_autotune_gemm",
         "max_autotune_pointwise", "epilogue_fusion", "freezing", "fx_graph_cache",
         "force_fuse_int_mm_with_mul", "use_mixed_mm")
TRITON = ("cudagraphs", "unique_kernel_names", "cudagraph_trees", "divisible_by_16")


def test_imports_as_a_module_and_accepts_settings():
    config = importlib.import_module("stepjit._inductor.config")
    assert stepjit._inductor.config is config
    saved = config.coordinate_descent_tuning
    try:
        if hasattr(config, "coordinate_descent_tuning"):
            config.coordinate_descent_tuning = True
        config.triton.cudagraphs = True
        w = stepjit.ones(3, requires_grad=True)

        @stepjit.compile
        def step(x):
            loss = (w * x).sum()
            loss.backward()
            return loss
        assert float(step(stepjit.full((3,), 2.0))) == 6.0
        np.testing.assert_array_equal(w.grad.numpy(), np.full(3, 2.0, np.float32))
    finally:
        config.coordinate_descent_tuning = saved
        config.triton.cudagraphs = False


def test_defaults_are_pytorchs():
    torch_config = pytest.importorskip("torch._inductor.config")
    config = importlib.import_module("stepjit._inductor.config")
    for name in NAMES:
        assert getattr(config, name) == getattr(torch_config, name), name
    for name in TRITON:
        assert getattr(config.triton, name) == getattr(torch_config.triton, name), name


def test_reachable_as_an_attribute_without_importing_it():
    # `torch._inductor.config.x = ...` right after `import torch`, as PyTorch allows
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import stepjit as torch\n"
            "torch._inductor.config.coordinate_descent_tuning = True\n"
            "print(torch._inductor.config.max_autotune)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=root), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
