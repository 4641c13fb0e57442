"""nn.utils: gradient clipping, padding and packing of sequences, parameter vectors,
stateless.functional_call."""
from . import rnn  # noqa: F401
from . import stateless  # noqa: F401  (functional_call)
from .clip_grad import clip_grad_norm_, clip_grad_value_  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
