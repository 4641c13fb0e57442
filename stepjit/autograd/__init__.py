"""Tape autograd: grad mode, backward nodes, the engine, custom Functions, grad and gradcheck."""
from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: F401
from .function import Function, FunctionCtx  # noqa: F401
from .gradients import backward, grad, gradcheck, gradgradcheck  # noqa: F401
from . import graph  # noqa: F401  (torch.autograd.graph: saved_tensors_hooks, save_on_cpu, Node)
from . import functional  # noqa: F401  (torch.autograd.functional: jacobian, hessian, jvp, ...)
from . import profiler  # noqa: F401  (torch.autograd.profiler.profile, the legacy entry)
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401


def Variable(data, requires_grad=False, volatile=False):
    """The pre-0.4 wrapper, kept by old scripts: a Variable is a Tensor now."""
    if requires_grad:
        data.requires_grad_(True)
    return data
