"""`torch.autograd.variable.Variable`: the module path old scripts import Variable from."""
from . import Variable  # noqa: F401
