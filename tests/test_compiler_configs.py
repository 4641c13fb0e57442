"""The configuration modules that scripts written for torch.compile import by their dotted
names (gpt-fast's generate.py: `import torch._dynamo.config`, then
`torch._functorch.config.enable_autograd_cache = True`). `stepjit._dynamo.config` is the
settings class compiled functions read, whichever way it is imported; `stepjit._functorch.
config` holds PyTorch's AOTAutograd names with PyTorch's defaults and changes nothing."""
import importlib

import pytest

import stepjit

FUNCTORCH = ("enable_autograd_cache", "strict_autograd_cache", "donated_buffer",
             "activation_memory_budget", "treat_parameters_as_free_to_save",
             "view_replay_for_aliased_outputs", "cse")


def test_dynamo_config_imports_as_a_submodule():
    module = importlib.import_module("stepjit._dynamo.config")
    assert module is stepjit._dynamo.config is stepjit.config.dynamo
    ns = {}
    exec("import stepjit._dynamo.config\nimport stepjit._dynamo.config as c\n"
         "from stepjit._dynamo import config as d", ns)
    assert ns["c"] is ns["d"] is stepjit.config.dynamo


def test_a_setting_made_through_the_import_reaches_compiled_functions():
    import stepjit._dynamo.config as config
    saved = config.recompile_limit
    try:
        config.recompile_limit = 3
        assert stepjit.compile(lambda x: x + 1).limit == 3
    finally:
        config.recompile_limit = saved


def test_functorch_config_accepts_settings_and_steps_still_compile():
    import stepjit._functorch.config as config
    assert stepjit._functorch.config is config
    saved = config.enable_autograd_cache
    try:
        config.enable_autograd_cache = False
        w = stepjit.ones(2, requires_grad=True)

        @stepjit.compile(backend="interpret")
        def step(x):
            loss = (w * x).sum()
            loss.backward()
            return loss
        assert float(step(stepjit.full((2,), 3.0))) == 6.0
    finally:
        config.enable_autograd_cache = saved


def test_functorch_defaults_are_pytorchs():
    torch_config = pytest.importorskip("torch._functorch.config")
    config = importlib.import_module("stepjit._functorch.config")
    for name in FUNCTORCH:
        assert getattr(config, name) == getattr(torch_config, name), name
