"""Module constructions whose repr PyTorch prints in a documented form (a model printed in a
notebook cell shows these): name -> (module class name, args, kwargs). Recorded from
PyTorch by `python -m tests.fixtures module_reprs`."""

CASES = {
    "leaky_relu_default": ("LeakyReLU", (), {}),
    "leaky_relu_slope": ("LeakyReLU", (0.2,), {}),
    "leaky_relu_inplace": ("LeakyReLU", (0.2,), {"inplace": True}),
    "elu_default": ("ELU", (), {}),
    "elu_inplace": ("ELU", (), {"alpha": 0.5, "inplace": True}),
    "celu_default": ("CELU", (), {}),
    "selu_default": ("SELU", (), {}),
    "selu_inplace": ("SELU", (), {"inplace": True}),
    "silu_default": ("SiLU", (), {}),
    "silu_inplace": ("SiLU", (), {"inplace": True}),
    "mish_default": ("Mish", (), {}),
    "gelu_exact": ("GELU", (), {}),
    "gelu_tanh": ("GELU", (), {"approximate": "tanh"}),
    "hardtanh_default": ("Hardtanh", (), {}),
    "hardtanh_inplace": ("Hardtanh", (-2.0, 2.0), {"inplace": True}),
    "relu6_default": ("ReLU6", (), {}),
    "relu6_inplace": ("ReLU6", (), {"inplace": True}),
    "hardsigmoid_inplace": ("Hardsigmoid", (), {"inplace": True}),
    "hardswish_default": ("Hardswish", (), {}),
    "softshrink_default": ("Softshrink", (), {}),
    "hardshrink_lambd": ("Hardshrink", (0.3,), {}),
    "softplus_default": ("Softplus", (), {}),
    "glu_dim": ("GLU", (1,), {}),
    "rrelu_inplace": ("RReLU", (), {"inplace": True}),
    "threshold_inplace": ("Threshold", (0.1, 2.0), {"inplace": True}),
    "relu_default": ("ReLU", (), {}),
    "relu_inplace": ("ReLU", (True,), {}),
    "dropout_inplace": ("Dropout", (0.2, True), {}),
}


def build(nn, name):
    cls, args, kwargs = CASES[name]
    return getattr(nn, cls)(*args, **kwargs)
