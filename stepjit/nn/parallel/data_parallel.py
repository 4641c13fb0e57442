"""DataParallel and data_parallel, PyTorch's single-process data parallelism.

On a machine with no CUDA device PyTorch's DataParallel keeps the module and calls it
(`device_ids` is empty, state_dict keys are prefixed `module.`), which is how programs written
for several GPUs (d2l's `nn.DataParallel(net, device_ids=devices)`) run on a laptop; stepjit
does the same. stepjit drives one CUDA device (device 0), so where CUDA is available the
module moves there and runs the whole batch as one replica: with several device_ids it says
so once (a BatchNorm's statistics are then the whole batch's, where PyTorch's replicas each
use their share of it). For processes on several machines or GPUs use
DistributedDataParallel (stepjit.distributed, over MPI).
"""
from __future__ import annotations

import warnings

from ... import cuda
from ..modules.module import Module
from .scatter_gather import device_index, to_device

_WARNED = []


class DataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not cuda.is_available():
            self.module = module
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = list(range(cuda.device_count()))
        if output_device is None:
            output_device = device_ids[0]
        self.dim = dim
        self.module = module
        self.device_ids = [device_index(d) for d in device_ids]
        self.output_device = device_index(output_device)
        if len(self.device_ids) > 1 and not _WARNED:
            _WARNED.append(True)
            warnings.warn(f"DataParallel(device_ids={self.device_ids}): stepjit drives one CUDA "
                          "device, so the whole batch runs on cuda:0 as one replica (BatchNorm "
                          "statistics are the whole batch's)", stacklevel=2)
        self.module.to("cuda")

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        return self.module(*to_device(inputs), **to_device(kwargs))


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """module(*inputs) over device_ids; PyTorch's RuntimeError where there is no CUDA device."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    if not cuda.is_available():
        raise RuntimeError("device type could not be determined")
    if device_ids is None:
        device_ids = list(range(cuda.device_count()))
    for d in list(device_ids) + ([output_device] if output_device is not None else []):
        device_index(d)
    for t in list(module.parameters()) + list(module.buffers()):
        if t.device.type != "cuda":
            raise RuntimeError("module must have its parameters and buffers on device cuda:0 "
                               f"(device_ids[0]) but found one of them on device: {t.device}")
    return module(*to_device(inputs), **to_device(module_kwargs or {}))
