"""`torch._inductor.config`: the Inductor settings training scripts set before `torch.compile`
(`config.coordinate_descent_tuning = True`, `config.triton.cudagraphs = False`, ...).

stepjit's compiler is not Inductor: its own settings are `stepjit._dynamo.config` and the
STEPJIT_* environment variables (docs/configuration.md). These names exist, with PyTorch's
defaults, so a script that reads or sets them runs; their values change nothing in stepjit.
"""
import types

coordinate_descent_tuning = False
max_autotune = False
max_autotune_gemm = False
max_autotune_pointwise = False
epilogue_fusion = True
freezing = False
fx_graph_cache = True
force_fuse_int_mm_with_mul = False
use_mixed_mm = True
# nested settings, read as config.triton.cudagraphs
triton = types.SimpleNamespace(cudagraphs=False, unique_kernel_names=True,
                               cudagraph_trees=True, divisible_by_16=True)
