"""scatter, gather, replicate and parallel_apply: the pieces of DataParallel, for one CUDA
device. Where no CUDA device exists they raise as PyTorch's do on a CPU-only machine; stepjit
drives CUDA device 0 only, so a list of devices must name it alone."""
from __future__ import annotations

import copy

from ... import cuda
from ...ops.shape import cat
from ...tensor import Tensor


def device_index(device):
    """The CUDA device index a device_ids entry names (0: the one stepjit drives)."""
    kind = getattr(device, "type", None)
    if isinstance(device, str):
        kind, _, rest = device.partition(":")
        index = int(rest) if rest else 0
    elif kind is not None:
        index = device.index or 0
    else:
        kind, index = "cuda", int(device)
    if kind != "cuda":
        raise ValueError(f"Expected a non cpu device, but got: {device}")
    cuda.require()
    if index != 0:
        raise RuntimeError(f"device {device!r}: stepjit runs on CUDA device 0 only")
    return index


def to_device(obj):
    """Tensors inside tuples, lists and dicts moved to the CUDA device."""
    if isinstance(obj, Tensor):
        return obj.to("cuda")
    if isinstance(obj, tuple):
        return tuple(to_device(o) for o in obj)
    if isinstance(obj, list):
        return [to_device(o) for o in obj]
    if isinstance(obj, dict):
        return {k: to_device(v) for k, v in obj.items()}
    return obj


def scatter(inputs, target_gpus, dim=0):
    """Tensors split along dim into one chunk per device (one device: the whole tensor)."""
    for d in target_gpus:
        device_index(d)
    if len(target_gpus) != 1:
        raise RuntimeError(f"scatter over {len(target_gpus)} devices: stepjit drives one CUDA "
                           "device")
    if isinstance(inputs, Tensor):
        return (inputs.to("cuda"),)
    return [to_device(inputs)]


def gather(outputs, target_device, dim=0):
    if not cuda.is_available():
        raise AssertionError("Gather function not implemented for CPU tensors")
    device_index(target_device) if target_device != -1 else None
    first = outputs[0]
    if isinstance(first, Tensor):
        return cat([o.to("cuda") for o in outputs], dim)
    if isinstance(first, (tuple, list)):
        return type(first)(gather([o[i] for o in outputs], target_device, dim)
                            for i in range(len(first)))
    return first


def replicate(network, devices, detach=False):
    if not cuda.is_available():
        raise AssertionError("Broadcast function not implemented for CPU tensors")
    for d in devices:
        device_index(d)
    return [network] + [copy.deepcopy(network) for _ in devices[1:]]


def parallel_apply(modules, inputs, kwargs_tup=None, devices=None):
    if not cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    if len(modules) != len(inputs):
        raise AssertionError(f"The number of modules {len(modules)} is not equal to the number "
                             f"of inputs {len(inputs)}")
    kwargs_tup = kwargs_tup or ({},) * len(modules)
    return [m(*(i if isinstance(i, (list, tuple)) else (i,)), **k)
            for m, i, k in zip(modules, inputs, kwargs_tup)]
