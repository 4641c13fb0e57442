"""`torch._functorch.config`: AOTAutograd's settings (its autograd cache, buffer donation, the
activation memory budget of its partitioner) that scripts set before `torch.compile`.

stepjit derives backward graphs itself (passes/autodiff.py) and has no AOTAutograd: these
names exist, with PyTorch's defaults, so a script that reads or sets them runs; their values
change nothing in stepjit.
"""
enable_autograd_cache = True
strict_autograd_cache = False
donated_buffer = True
activation_memory_budget = 1.0
treat_parameters_as_free_to_save = True
view_replay_for_aliased_outputs = True
cse = True
