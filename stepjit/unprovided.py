"""PyTorch modules stepjit does not provide, as modules that say so when used, and the
accelerators it never has (torch.xpu, torch.mtia), which say they are not available.

`torch.hub` (downloading pretrained models), `torch.quantization` / `torch.ao` (int8
models), `torch.export` and `torch.fx` (graph capture for other compilers: stepjit has its own,
`stepjit.compile` and `stepjit dump`) have no stepjit counterpart. A program that only names
them (`from torch.hub import load_state_dict_from_url` at the top of a model file, an
`isinstance(m, torch.ao.nn.quantized.Linear)` never reached) still imports; reading any name
from them raises, naming the module and what to do instead, rather than an AttributeError
about stepjit. The names PyTorch programs import from them at the top level are importable
and raise when called.
"""
from __future__ import annotations

import sys
import types

_WHY = {
    "hub": "downloading pretrained models; load the weights with PyTorch and pass them to "
           "stepjit with stepjit.load or load_state_dict",
    "quantization": "int8 quantized models; stepjit computes in float32 and float64",
    "ao": "int8 quantized models and sparsity (torch.ao); stepjit computes in float32 and "
          "float64",
    "export": "graph export; stepjit's own graph is shown by `stepjit dump` and runs with "
              "stepjit.compile",
    "fx": "symbolic tracing for graph rewrites; stepjit's own graph is shown by `stepjit dump` "
          "and runs with stepjit.compile",
}
# Names programs import at the top of a file before any use (torchvision-era model files).
_IMPORTED_EARLY = {
    "hub": ("load_state_dict_from_url", "download_url_to_file", "load", "list", "help",
            "get_dir", "set_dir"),
    "quantization": ("QuantStub", "DeQuantStub", "quantize_dynamic", "fuse_modules"),
    "ao": (),
    "export": ("export",),
    "fx": ("symbolic_trace", "GraphModule", "Tracer"),
}


class UnprovidedError(NotImplementedError):
    """The program used a PyTorch module stepjit does not provide."""


def _message(module, name):
    return (f"torch.{module}.{name}: stepjit does not provide torch.{module} "
            f"({_WHY[module]})")


def _refusing(module, name):
    def unprovided(*args, **kwargs):
        raise UnprovidedError(_message(module, name))
    unprovided.__name__ = unprovided.__qualname__ = name
    return unprovided


class _Unprovided(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise UnprovidedError(_message(self.__name__.rsplit(".", 1)[1], name))


def module(name):
    """stepjit.<name>, registered so that `import stepjit.<name>` finds it too."""
    m = _Unprovided(f"stepjit.{name}", f"torch.{name} is not provided by stepjit: {_WHY[name]}.")
    for attr in _IMPORTED_EARLY[name]:
        setattr(m, attr, _refusing(name, attr))
    sys.modules[m.__name__] = m
    return m


hub, quantization, ao, export, fx = (module(n) for n in _WHY)


# -- accelerators this machine never has ------------------------------------------------------
class _AbsentDevice(types.ModuleType):
    """torch.xpu / torch.mtia: stepjit runs on the CPU and CUDA only, so these answer the
    availability questions device-selection code asks (`torch.xpu.is_available()`), and
    anything else raises, as PyTorch's does on a machine without the device."""

    def is_available(self):
        return False

    def device_count(self):
        return 0

    def is_initialized(self):
        return False

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        kind = self.__name__.rsplit(".", 1)[1]
        raise RuntimeError(f"torch.{kind}.{name}: stepjit has no {kind.upper()} backend "
                           f"(torch.{kind}.is_available() is False); use the CPU or CUDA")


def absent_device(name):
    m = _AbsentDevice(f"stepjit.{name}", f"torch.{name}: no such device in stepjit.")
    for attr in ("is_available", "device_count", "is_initialized"):
        setattr(m, attr, getattr(m, attr))
    sys.modules[m.__name__] = m
    return m


xpu, mtia = absent_device("xpu"), absent_device("mtia")
