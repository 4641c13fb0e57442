"""`torch.autograd.profiler`: PyTorch's older profiler entry point, which tutorials still use
(`with torch.autograd.profiler.profile(use_cuda=run_on_gpu) as prf: ...` then
`prf.key_averages().table(sort_by='self_cpu_time_total')`). It is stepjit.profiler's session
under the legacy signature: `enabled` first (enabled=False records nothing, as in PyTorch),
then keywords (use_cuda, use_device, record_shapes, with_stack, ...), the ones with no
meaning here accepted and ignored."""
from __future__ import annotations

from .. import profiler as _profiler
from ..profiler import record_function  # noqa: F401


class profile(_profiler.profile):
    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None):
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory,
                         with_stack=with_stack, with_flops=with_flops,
                         with_modules=with_modules)
        self.enabled = enabled

    def start(self):
        return super().start() if self.enabled else self

    def stop(self):
        if self.enabled:
            super().stop()


class emit_nvtx:
    """PyTorch's NVTX ranges around each op for NVIDIA's Nsight tools: stepjit's kernels are
    not CUDA library calls that Nsight would attribute, so the block runs unannotated
    (enabled or not)."""

    def __init__(self, enabled=True, record_shapes=False):
        self.enabled = enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
