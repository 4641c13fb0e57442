"""Activation modules: thin wrappers that hold options and call nn.functional."""
from __future__ import annotations

from .. import functional as F
from .attention import MultiheadAttention  # noqa: F401  (PyTorch keeps it in nn.modules.activation)
from .module import Module
from ...ops.creation import full
from ..parameter import Parameter


class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    def forward(self, input):
        return F.tanh(input)


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of a (C, H, W) or (N, C, H, W) input."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             "instead")
        return F.softmax(input, -3)


class LogSoftmax(Softmax):
    def forward(self, input):
        return F.log_softmax(input, self.dim)


def _simple(name, fn_name, doc, shown=None, **defaults):
    """An activation module whose options are keyword arguments passed to F.<fn_name>.
    Its repr is PyTorch's: the options in `shown` (default: all but inplace) as key=value
    with strings quoted, then ", inplace=True" only when set; shown="bare" prints the one
    option's value alone (Softshrink(0.5)), shown=() nothing (Hardswish())."""
    keys = tuple(defaults)
    listed = tuple(k for k in keys if k != "inplace") if shown is None else shown

    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        values = dict(defaults)
        values.update(zip(keys, args))
        values.update(kwargs)
        for k, v in values.items():
            setattr(self, k, v)

    def forward(self, input):
        return getattr(F, fn_name)(input, **{k: getattr(self, k) for k in keys})

    def extra_repr(self):
        if listed == "bare":
            return str(getattr(self, keys[0]))
        parts = [f"{k}={getattr(self, k)!r}" if isinstance(getattr(self, k), str)
                 else f"{k}={getattr(self, k)}" for k in listed]
        if "inplace" in keys and getattr(self, "inplace") and shown != ():
            parts.append("inplace=True")
        return ", ".join(parts)

    return type(name, (Module,), {"__init__": __init__, "forward": forward,
                                   "extra_repr": extra_repr, "__doc__": doc})


GELU = _simple("GELU", "gelu", "GELU, exact (erf) or approximate='tanh'.", approximate="none")
SiLU = _simple("SiLU", "silu", "x * sigmoid(x).", inplace=False)
Mish = _simple("Mish", "mish", "x * tanh(softplus(x)).", inplace=False)
LeakyReLU = _simple("LeakyReLU", "leaky_relu", "max(0, x) + slope * min(0, x).",
                    negative_slope=0.01, inplace=False)
ELU = _simple("ELU", "elu", "x, or alpha * (exp(x) - 1) below 0.", alpha=1.0, inplace=False)
CELU = _simple("CELU", "celu", "Continuously differentiable ELU.", alpha=1.0, inplace=False)
SELU = _simple("SELU", "selu", "Scaled ELU.", inplace=False)
Softplus = _simple("Softplus", "softplus", "log(1 + exp(beta x)) / beta.", beta=1.0,
                   threshold=20.0)
Hardtanh = _simple("Hardtanh", "hardtanh", "clamp(x, min_val, max_val).", min_val=-1.0,
                   max_val=1.0, inplace=False)
ReLU6 = _simple("ReLU6", "relu6", "clamp(x, 0, 6).", inplace=False)
Hardsigmoid = _simple("Hardsigmoid", "hardsigmoid", "relu6(x + 3) / 6.", shown=(), inplace=False)
Hardswish = _simple("Hardswish", "hardswish", "x * relu6(x + 3) / 6.", shown=(), inplace=False)
Softsign = _simple("Softsign", "softsign", "x / (1 + |x|).")
Tanhshrink = _simple("Tanhshrink", "tanhshrink", "x - tanh(x).")
Softshrink = _simple("Softshrink", "softshrink", "Soft thresholding.", shown="bare", lambd=0.5)
Hardshrink = _simple("Hardshrink", "hardshrink", "Hard thresholding.", shown="bare", lambd=0.5)
LogSigmoid = _simple("LogSigmoid", "logsigmoid", "log(sigmoid(x)), computed stably.")
GLU = _simple("GLU", "glu", "a * sigmoid(b) for the two halves of dim.", dim=-1)
Softmin = _simple("Softmin", "softmin", "softmax(-x).", dim=None)


class RReLU(Module):
    """Randomized leaky ReLU: random negative slopes in training, their mean in evaluation."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class Threshold(Module):
    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (
            ", inplace=True" if self.inplace else "")


class PReLU(Module):
    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(full((num_parameters,), init, dtype=dtype, device=device))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
