"""Differentiable collectives, as torch.distributed.nn.functional: they return a new tensor
and record a node, so gradients flow back through the communication."""
from ... import dispatch
from ...ir.primitives import collective as C
from .. import ReduceOp, _check, _op


def all_reduce(tensor, op=ReduceOp.SUM, group=None):
    """The reduction of `tensor` over every rank; its gradient is the all_reduce of the
    output gradient (SUM and AVG)."""
    _check(tensor, "all_reduce")
    return dispatch.apply(C.all_reduce, tensor, op=_op(op))
